"""Settings are validated once at start-up; every problem names the file or variable, the key and what is allowed."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from portal import PROJECT_ROOT
from portal.settings import SettingsError, load_settings

from tests.support import hosts_toml, settings_toml


def problems_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        load_settings(path, environ or {})
    return [str(p) for p in raised.value.problems]


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def run(text: str) -> Path:
        path = tmp_path / "portal.toml"
        path.write_text(text)
        return path
    return run


@pytest.fixture
def valid(write: Callable[[str], Path], tmp_path: Path) -> Callable[[str], Path]:
    """A valid file with `extra` top-level TOML added."""
    return lambda extra="": write(settings_toml(f"sqlite:///{tmp_path}/p.db", extra))


def test_a_valid_file_loads_with_documented_defaults(valid: Callable[[str], Path]) -> None:
    settings = load_settings(valid(), {})
    assert settings.session.idle_minutes == 30
    assert settings.oidc.claims.username == "preferred_username"
    assert settings.rate_limits.storage_uri == "memory://"
    assert settings.actions.reset == "builtin"


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path / "nope.toml")
    assert problem.startswith(f"{tmp_path / 'nope.toml'}: (file): not found")


def test_invalid_toml_is_reported_not_raised(write: Callable[[str], Path]) -> None:
    path = write("base_url = \n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: (file): is not valid TOML")


def test_every_problem_is_reported_at_once(write: Callable[[str], Path], tmp_path: Path) -> None:
    path = write(settings_toml(f"sqlite:///{tmp_path}/p.db", 'colour = "red"\ntrusted_proxies = 9')
                 .replace('client_id = "portal"', 'client_id = 5'))
    found = problems_of(path)
    assert f"{path}: colour: unknown key; allowed keys here: actions, admin, base_url," in found[0]
    assert f"{path}: trusted_proxies: must be between 0 and 5 (got 9)" in found
    assert f"{path}: oidc.client_id: must be a string (got 5)" in found


@pytest.mark.parametrize(("base_url", "expected"), [
    ("http://passwords.contoso.com", "base_url: must use https://"),
    ("https://user:pw@passwords.contoso.com", "base_url: must not contain a user name or password"),
    ("passwords.contoso.com", "base_url: must be an absolute https:// URL"),
    ("https://passwords.contoso.com/?x=1", "base_url: must not have a query or fragment"),
])
def test_base_url_must_be_an_absolute_https_url(write: Callable[[str], Path], tmp_path: Path,
                                                 base_url: str, expected: str) -> None:
    path = write(settings_toml(f"sqlite:///{tmp_path}/p.db", base_url=base_url))
    assert any(p.startswith(f"{path}: {expected}") for p in problems_of(path))


def test_theme_names_cannot_walk_out_of_the_branding_folder(write: Callable[[str], Path], tmp_path: Path) -> None:
    path = write(settings_toml(f"sqlite:///{tmp_path}/p.db", theme="../etc"))
    assert any(p.startswith(f"{path}: theme: must be a simple name") for p in problems_of(path))


@pytest.mark.parametrize(("extra", "expected"), [
    ('log_level = "LOUD"', "log_level: must be one of DEBUG, INFO, WARNING, ERROR (got 'LOUD')"),
    ('demo = "yes"', "demo: must be true or false (got 'yes')"),
    ('[actions]\nreset = "javascript:alert(1)"', "actions.reset: must be \"builtin\" or an absolute https:// URL"),
    ('[session]\nidle_minutes = 0', "session.idle_minutes: must be between 1 and 1440 (got 0)"),
    ('[rate_limits]\nstorage_uri = "memcached://x"', "rate_limits.storage_uri: must be memory://"),
    ('[hosts."Bad Host"]\ntheme = "default"\nbase_url = "http://localhost"', "hosts.Bad Host: must be a lower-case host name"),
    ('[hosts]\nlocalhost = "default"', "hosts.localhost: must be a table"),
    ('[hosts.localhost]\ntheme = "default"', "hosts.localhost.base_url: is required"),
    ('[hosts.localhost]\ntheme = "default"\nbase_url = "http://127.0.0.1:5000"',
     "hosts.localhost.base_url: must be an address on localhost itself"),
    ('[hosts.localhost]\ntheme = "default"\nbase_url = "https://localhost"', "hosts.localhost.base_url: must use http://"),
    ('[hosts."127.0.0.1"]\ntheme = "default"\nbase_url = "http://127.0.0.1"', "hosts.127.0.0.1: is base_url's own host name"),
    ('[registration]\nsnooze_days = 15', "registration.snooze_days: must be between 1 and 14 (got 15)"),
    ('[registration]\nrequired_from = "31.03.2027"',
     "registration.required_from: must be empty (no deadline) or a date written YYYY-MM-DD (got '31.03.2027')"),
    ('[registration]\nrequired_from = "2027-02-30"', "registration.required_from: must be empty (no deadline)"),
])
def test_wrong_values_name_key_and_what_is_allowed(valid: Callable[[str], Path], extra: str, expected: str) -> None:
    path = valid(extra)
    found = problems_of(path)
    assert any(p.startswith(f"{path}: {expected}") for p in found), found


def test_required_keys_are_required(write: Callable[[str], Path]) -> None:
    path = write('base_url = "https://passwords.contoso.com"\nsecret_key = "' + "s" * 40 + '"')
    found = problems_of(path)
    # with every action built in (the default); link mode needs neither (tests/blueprints/test_link_mode.py)
    assert f'{path}: oidc: is required because [actions] register is "builtin" (people sign in to register)' in found
    assert any(p.startswith(f'{path}: directory: is required because [actions] change, register, reset are "builtin"')
               for p in found), found


def test_secret_key_is_required_outside_the_demo(valid: Callable[[str], Path]) -> None:
    path = valid()
    path.write_text(path.read_text().replace('secret_key = "', 'unused_marker = "', 1)
                    .replace("unused_marker", "# unused"))
    found = problems_of(path)
    assert any(p.startswith(f"{path}: secret_key: is required outside the demo") for p in found), found


def test_demo_mode_allows_a_missing_secret_key(valid: Callable[[str], Path]) -> None:
    path = valid("demo = true")
    path.write_text(path.read_text().replace('secret_key = "', '# secret_key = "'))
    assert load_settings(path, {}).demo is True


def test_plain_ldap_needs_an_explicit_allowance(valid: Callable[[str], Path]) -> None:
    path = valid()
    path.write_text(path.read_text().replace("allow_plaintext = true", "allow_plaintext = false"))
    found = problems_of(path)
    assert any("directory.url: is plain ldap:// without start_tls" in p for p in found), found


def test_idle_lifetime_cannot_exceed_absolute_lifetime(valid: Callable[[str], Path]) -> None:
    found = problems_of(valid("[session]\nidle_minutes = 600\nabsolute_minutes = 60"))
    assert any("session.idle_minutes: must not be longer than session.absolute_minutes" in p for p in found)


HTTPS = {"PORTAL_BASE_URL": "https://passwords.contoso.com"}


def test_the_session_cookie_takes_the_host_prefix_by_default_on_https_only(valid: Callable[[str], Path]) -> None:
    assert load_settings(valid(), HTTPS).session_cookie_name == "__Host-portal_session"
    assert load_settings(valid(), {}).session_cookie_name == "portal_session"   # http on the loopback


@pytest.mark.parametrize("name", ["__Host-passwords", "__Secure-passwords", "passwords"])
def test_a_configured_cookie_name_is_used_as_it_is(valid: Callable[[str], Path], name: str) -> None:
    assert load_settings(valid(f'[session]\ncookie_name = "{name}"'), HTTPS).session_cookie_name == name


@pytest.mark.parametrize("name", ["__Host-passwords", "__Secure-passwords"])
def test_a_prefixed_cookie_name_needs_https(valid: Callable[[str], Path], name: str) -> None:
    path = valid(f'[session]\ncookie_name = "{name}"')
    assert f"{path}: session.cookie_name: a __Host- or __Secure- name needs an https:// base_url " \
           "(browsers accept such a cookie only with Secure)" in problems_of(path)


@pytest.mark.parametrize("name", ["__host-passwords", "__Host-", "portal session", "__Other-passwords", ""])
def test_a_malformed_cookie_name_is_refused(valid: Callable[[str], Path], name: str) -> None:
    path = valid(f'[session]\ncookie_name = "{name}"')
    assert f"{path}: session.cookie_name: must be letters a-z, digits, - and _, optionally after __Host- or " \
           f"__Secure- (got {name!r})" in problems_of(path, HTTPS)


def test_environment_overrides_single_keys_with_types(valid: Callable[[str], Path]) -> None:
    settings = load_settings(valid(), {
        "PORTAL_OIDC__CLIENT_SECRET": "from-env",
        "PORTAL_SESSION__IDLE_MINUTES": "15",
        "PORTAL_OIDC__SCOPES": '["openid", "email"]',
        "PORTAL_CONFIG": "ignored-here",
        "UNRELATED": "x",
    })
    assert settings.oidc.client_secret == "from-env"
    assert settings.session.idle_minutes == 15
    assert settings.oidc.scopes == ["openid", "email"]


def test_a_host_comes_from_the_file_or_the_environment_and_is_served_with_its_own_base_url(
        valid: Callable[[str], Path]) -> None:
    from_file = load_settings(valid(hosts_toml("contoso", "http://localhost:5000")),
                              {"PORTAL_HOSTS__LOCALHOST__BASE_URL": "http://localhost:5040"})
    from_environment = load_settings(valid(), {"PORTAL_HOSTS": '{ localhost = { theme = "contoso", '
                                                               'base_url = "http://localhost:5040" } }'})
    for settings in (from_file, from_environment):
        served = settings.host("LocalHost:8080")    # any port, any case: the host name picks the entry
        assert served is not None and (served.theme, served.base_url) == ("contoso", "http://localhost:5040")
        assert settings.host("127.0.0.1") is not None and settings.host("evil.example") is None


def test_gunicorns_variables_in_the_same_environment_are_not_settings(valid: Callable[[str], Path]) -> None:
    """deploy/gunicorn.conf.py reads them from the environment file the portal's workers inherit."""
    gunicorn = {"PORTAL_BIND": "127.0.0.1:8000", "PORTAL_WORKERS": "2", "PORTAL_THREADS": "32",
                "PORTAL_ACCESS_LOG": "-"}
    assert load_settings(valid(), gunicorn).base_url


def test_environment_problems_name_the_variable(valid: Callable[[str], Path]) -> None:
    found = problems_of(valid(), {"PORTAL_SESSION__IDLE_MINUTES": "many", "PORTAL_NO_SUCH_KEY": "1"})
    assert "environment variable PORTAL_SESSION__IDLE_MINUTES: session.idle_minutes: must be a whole number (got 'many')" in found
    assert any(p.startswith("environment variable PORTAL_NO_SUCH_KEY: no_such_key: unknown key") for p in found)


def test_the_wsgi_entry_point_exits_non_zero_with_one_line_per_problem(valid: Callable[[str], Path]) -> None:
    path = valid('log_level = "LOUD"\ntrusted_proxies = 9')
    result = subprocess.run([sys.executable, "-c", "import wsgi"], capture_output=True, text=True,
                            env={**os.environ, "PORTAL_CONFIG": str(path)}, cwd=PROJECT_ROOT)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"portal: settings error: {path}: trusted_proxies: must be between 0 and 5 (got 9)",
                     f"portal: settings error: {path}: log_level: must be one of DEBUG, INFO, WARNING, ERROR (got 'LOUD')"]


def test_the_example_file_documents_every_key_and_loads() -> None:
    example = PROJECT_ROOT / "config" / "portal.example.toml"
    settings = load_settings(example, {"PORTAL_SECRET_KEY": "k" * 40, "PORTAL_OIDC__CLIENT_SECRET": "s",
                                       "PORTAL_DIRECTORY__BIND_PASSWORD": "p"})
    assert settings.base_url == "https://passwords.contoso.com"


@pytest.mark.parametrize("table", ["actions", "hosts", "admin"])
def test_the_example_file_comments_every_key_of_the_tables_it_admins_ask_about(table: str) -> None:
    """Each key of the table comes right after a comment saying what it does (hosts: the table's example)."""
    lines = (PROJECT_ROOT / "config" / "portal.example.toml").read_text().splitlines()
    start = lines.index(f"[{table}]")
    assert lines[start - 1].startswith("#")
    body = lines[start + 1:next(i for i in range(start + 1, len(lines)) if lines[i].startswith("["))]
    keys = [i for i, line in enumerate(body) if line and not line.startswith("#")]
    assert keys or table == "hosts"
    assert all(i > 0 and body[i - 1].startswith("#") for i in keys), [body[i] for i in keys]
