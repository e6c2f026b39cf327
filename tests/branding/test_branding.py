"""Themes from files: validated at start-up, chosen per host, overriding templates and static files."""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from devstack import people
from portal.branding.theme import Helpdesk
from tests.admin_support import ADMIN, admin_app  # noqa: F401 - fixture
from tests.branding_support import branding, build, start_up_problems  # noqa: F401 - fixtures
from tests.registration_support import sign_in
from tests.support import BASE_URL, SECOND_URL, SECRET_KEY, hosts_toml


def test_a_missing_theme_stops_start_up(build: Callable[..., Flask], branding: Path) -> None:
    [problem] = start_up_problems(build, theme="fabrikam")
    assert problem == f"{branding}/fabrikam/theme.toml: (file): theme 'fabrikam' not found: expected {branding}/fabrikam/theme.toml"


def test_a_theme_naming_a_missing_logo_stops_start_up(build: Callable[..., Flask], branding: Path) -> None:
    (branding / "contoso" / "static" / "contoso-logo.svg").unlink()
    [problem] = start_up_problems(build, theme="contoso")
    assert problem.startswith(f"{branding}/contoso/theme.toml: logo: names 'contoso-logo.svg', which is not a file")


def test_a_logo_path_cannot_leave_the_theme(build: Callable[..., Flask], branding: Path) -> None:
    toml = branding / "default" / "theme.toml"
    toml.write_text(toml.read_text().replace('logo = "logo.svg"', 'logo = "../../contoso/static/favicon.svg"'))
    [problem] = start_up_problems(build)
    assert "logo: names '../../contoso/static/favicon.svg', which is not a file" in problem


def test_a_malformed_colour_stops_start_up(build: Callable[..., Flask], branding: Path) -> None:
    toml = branding / "contoso" / "theme.toml"
    toml.write_text(toml.read_text().replace('primary = "#5C2D91"', 'primary = "purple"'))
    [problem] = start_up_problems(build, theme="contoso")
    assert problem == f"{branding}/contoso/theme.toml: colours.primary: must be a colour like #0F6CBD or #FFF (got 'purple')"


def test_an_unknown_theme_key_stops_start_up(build: Callable[..., Flask], branding: Path) -> None:
    toml = branding / "default" / "theme.toml"
    toml.write_text(toml.read_text() + 'colour_scheme = "dark"\n')
    [problem] = start_up_problems(build)
    assert problem.startswith(f"{branding}/default/theme.toml: colour_scheme: unknown key")


def test_low_contrast_colour_pairs_are_named_in_a_warning(build: Callable[..., Flask], branding: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    toml = branding / "contoso" / "theme.toml"
    toml.write_text(toml.read_text().replace('on_primary = "#FFFFFF"', 'on_primary = "#7A5AA0"'))
    with caplog.at_level(logging.WARNING, logger="portal.branding.registry"):
        build(theme="contoso")
    assert "colours.on_primary on colours.primary has contrast" in caplog.text
    assert "below WCAG AA (4.5:1)" in caplog.text
    assert "colours.text on colours.background" not in caplog.text


def test_the_page_shows_the_theme(build: Callable[..., Flask]) -> None:
    page = build(theme="contoso").test_client().get("/", base_url=BASE_URL).get_data(as_text=True)
    assert "<title>Contoso password portal</title>" in page
    assert 'src="/static/contoso-logo.svg" alt="Contoso"' in page
    assert 'href="https://intranet.contoso.com/it"' in page
    assert 'href="tel:+14255550100"' in page


def test_a_theme_template_overrides_the_builtin_one(build: Callable[..., Flask]) -> None:
    page = build(theme="contoso").test_client().get("/", base_url=BASE_URL).get_data(as_text=True)
    assert "Still stuck? Talk to a person" in page      # branding/contoso/templates/partials/helpdesk.html
    assert "Need help?" not in page                      # the built-in partial


HELPDESK = {"name": "the Fabrikam Desk", "phone": "+1 206 555 0199", "email": "desk@fabrikam.example",
            "url": "https://desk.fabrikam.example/help", "hours": "around the clock"}
SHOWN_AS = {"phone": 'href="tel:+12065550199"', "email": 'href="mailto:desk@fabrikam.example"',
            "url": 'href="https://desk.fabrikam.example/help"'}


@pytest.mark.parametrize("theme", ["default", "contoso"])
def test_the_help_desk_block_shows_every_field_also_in_the_contoso_override(
        build: Callable[..., Flask], branding: Path, theme: str) -> None:
    """Every [helpdesk] key a theme sets reaches the page, in the built-in block and in Contoso's
    override of it (an example IT copies: it must not drop a field). A new key fails here until shown."""
    assert set(HELPDESK) == {f.name for f in dataclasses.fields(Helpdesk)}
    toml = branding / theme / "theme.toml"
    table = "[helpdesk]\n" + "".join(f'{key} = "{value}"\n' for key, value in HELPDESK.items())
    text = toml.read_text()
    start = text.find("[helpdesk]")
    if start == -1:
        toml.write_text(text + "\n" + table)
    else:
        end = text.find("\n[", start + 1)
        toml.write_text(text[:start] + table + text[end:])
    page = build(theme=theme).test_client().get("/", base_url=BASE_URL).get_data(as_text=True)
    helpdesk = page[page.index('aria-labelledby="helpdesk-heading"'):]
    helpdesk = helpdesk[:helpdesk.index("</section>")]
    for key, value in HELPDESK.items():
        assert value in helpdesk and SHOWN_AS.get(key, value) in helpdesk, key


def test_each_host_gets_its_own_theme_and_unknown_hosts_get_400(build: Callable[..., Flask]) -> None:
    client = build(hosts_toml("contoso")).test_client()
    default = client.get("/", base_url=BASE_URL)
    contoso = client.get("/", base_url=SECOND_URL)
    unknown = client.get("/", base_url="https://passwords.evil.example")
    assert "<title>Password portal</title>" in default.get_data(as_text=True)
    assert "Need help?" in default.get_data(as_text=True)       # no template override leaks across hosts
    assert "<title>Contoso password portal</title>" in contoso.get_data(as_text=True)
    assert "Still stuck? Talk to a person" in contoso.get_data(as_text=True)
    assert unknown.status_code == 400
    assert "Contoso" not in unknown.get_data(as_text=True)


def test_static_files_come_from_the_theme_first_then_the_portal(build: Callable[..., Flask], branding: Path) -> None:
    (branding / "contoso" / "static" / "portal.css").write_text("/* contoso layout */")
    client = build(theme="contoso").test_client()
    assert client.get("/static/portal.css", base_url=BASE_URL).get_data() == b"/* contoso layout */"
    assert client.get("/static/favicon.svg", base_url=BASE_URL).status_code == 200
    for escape in ("/static/../theme.toml", "/static/%2e%2e/theme.toml", "/static/..%2f..%2fconfig/demo.toml"):
        assert client.get(escape, base_url=BASE_URL).status_code == 404


def test_theme_colours_are_served_as_a_stylesheet(build: Callable[..., Flask]) -> None:
    css = build(theme="contoso").test_client().get("/theme.css", base_url=BASE_URL)
    assert css.mimetype == "text/css"
    assert "--primary: #5C2D91;" in css.get_data(as_text=True)


def test_markdown_texts_are_sanitized(build: Callable[..., Flask], branding: Path) -> None:
    toml = branding / "contoso" / "theme.toml"
    toml.write_text(toml.read_text().replace(
        'intro = "Forgot', 'intro = "<script>alert(1)</script>[x](javascript:alert(2)) <img src=x onerror=y> Forgot'))
    page = build(theme="contoso").test_client().get("/", base_url=BASE_URL).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "javascript:" not in page
    assert "onerror" not in page
    assert "Forgot your password on a Monday morning?" in page


def test_external_actions_are_linked_and_missing_builtin_flows_are_not(build: Callable[..., Flask]) -> None:
    app = build('[actions]\nreset = "https://passwordreset.microsoftonline.com/"\n'
                'change = "https://account.activedirectory.windowsazure.com/ChangePassword.aspx"')
    page = app.test_client().get("/", base_url=BASE_URL).get_data(as_text=True)
    assert 'href="https://passwordreset.microsoftonline.com/"' in page
    assert 'href="https://account.activedirectory.windowsazure.com/ChangePassword.aspx"' in page
    assert ("Register or update my security info" in page) == ("register.index" in app.view_functions)


def test_reset_is_not_offered_before_it_is_rolled_out(build: Callable[..., Flask]) -> None:
    hidden = build('[rollout]\nreset = "nobody"').test_client().get("/", base_url=BASE_URL).get_data(as_text=True)
    shown = build('[rollout]\nreset = "everybody"').test_client().get("/", base_url=BASE_URL).get_data(as_text=True)
    assert "Reset my password" not in hidden
    assert "Change my password" in hidden          # change still works for everybody
    assert 'href="/reset/"' in shown


REFUSED = None  # the page is not rendered: the branded 500 page instead
THEME_PROBES = {  # what a theme template gets: "" (undefined) or REFUSED, never the value
    "{{ config }}": "", "{{ request }}": "", "{{ session }}": "", "{{ g }}": "", "{{ theme }}": "",
    "{{ url_for.__globals__ }}": "",           # an unsafe attribute is undefined in the sandbox...
    "{{ lipsum.__globals__ }}": "",
    "{{ get_flashed_messages.__globals__ }}": "",
    "{{ csrf_token.__globals__ }}": "",
    "{{ self._TemplateReference__context }}": "",
    "{{ self.__init__.__globals__ }}": REFUSED,  # ...and anything reached through it is refused
    "{{ cycler.__init__.__globals__.os }}": REFUSED,
    "{{ url_for.__self__.config }}": REFUSED,
    "{{ brand.__class__.__init__.__globals__ }}": REFUSED,
    "{{ ''.__class__.__mro__[1].__subclasses__() }}": REFUSED,
    "{{ config.SECRET_KEY }}": REFUSED,
    "{{ config['SECRET_KEY'] }}": REFUSED,
    "{{ request.environ }}": REFUSED,
    "{{ brand.links.append(1) }}": REFUSED,  # the immutable sandbox: values passed in cannot change
}
SECRETS = (SECRET_KEY, "portal-dev-secret", people.SERVICE.password)
INTERNALS = ("__builtins__", "wsgi.", "SECRET_KEY", "<module", "<Config", "<Flask")


@pytest.mark.parametrize("probe", THEME_PROBES)
def test_a_theme_template_gets_plain_data_only(build: Callable[..., Flask], branding: Path, probe: str) -> None:
    """A theme partial, included by a built-in page with its whole context, cannot reach the portal."""
    (branding / "contoso" / "templates" / "partials" / "helpdesk.html").write_text(f"[[{probe}]]")
    response = build(theme="contoso").test_client().get("/", base_url=BASE_URL)
    page = response.get_data(as_text=True)
    assert not [leak for leak in SECRETS + INTERNALS if leak in page]
    if THEME_PROBES[probe] is REFUSED:
        assert response.status_code == 500 and "Something went wrong on our side" in page
    else:
        assert response.status_code == 200 and f"[[{THEME_PROBES[probe]}]]" in page


def test_a_theme_cannot_override_administration_pages(build: Callable[..., Flask], branding: Path) -> None:
    override = branding / "contoso" / "templates" / "admin" / "index.html"
    override.parent.mkdir()
    override.write_text("{{ settings_rows }}")
    [problem] = start_up_problems(build, theme="contoso")
    assert problem == (f"{override}: (file): a theme cannot override administration pages (templates/admin/); "
                       "remove it")


def test_administration_pages_use_the_built_in_layout_and_other_pages_the_theme(
        admin_app: Callable[..., Flask], branding: Path) -> None:  # noqa: F811 - fixture
    (branding / "contoso" / "templates" / "base.html").write_text(
        "CONTOSO LAYOUT {{ settings_rows }}{% block content %}{% endblock %}")
    app = admin_app(environ={"PORTAL_THEME": "contoso", "PORTAL_BRANDING_DIR": str(branding)})
    client = app.test_client()
    sign_in(client, ADMIN)
    admin_page = client.get("/admin").get_data(as_text=True)
    assert "CONTOSO LAYOUT" not in admin_page
    assert "<title>Overview – Administration – Contoso password portal</title>" in admin_page  # still branded
    assert client.get("/").get_data(as_text=True).startswith("CONTOSO LAYOUT")
