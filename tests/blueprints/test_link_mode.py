"""Link mode: an action set to a URL in [actions] sends every route of its built-in flow there, and the
settings need only what the built-in actions that remain use (portal/blueprints/external.py).

Each of the eight combinations (reset, register, change: built in or a URL) starts from the tables it
needs and no more, and is probed on every route the built-in blueprints have, read from a portal
where all three are built in: a route added to a flow later is probed too.
"""
from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Route, sync_playwright
from werkzeug.serving import make_server
from werkzeug.routing import AnyConverter, BaseConverter, IntegerConverter

from devstack.ports import TEST
from portal import create_app
from portal.settings import SettingsError, load_settings
from portal.store import get_store
from portal.store.migrate import upgrade
from tests.conftest import PortalClient, provider_callback
from tests.reset_support import NEW_PASSWORD, SlapdStack, audit_events
from tests.support import BASE_URL, settings_toml

URLS = {
    "reset": "https://passwordreset.microsoftonline.com/",
    "register": "https://aka.ms/mysecurityinfo",
    "change": "https://account.activedirectory.windowsazure.com/ChangePassword.aspx",
}
# the blueprints that make up each action's built-in flow
BLUEPRINTS = {"reset": {"reset"}, "register": {"register", "enforce"}, "change": {"change"}}
STATUS_API = "enforce.status_api"  # not a page people are sent to: 404 when registration is elsewhere
COMBINATIONS = [frozenset(k for k, external in zip(URLS, flags) if external)
                for flags in itertools.product((False, True), repeat=3)]


def combination_id(external: frozenset[str]) -> str:
    return "+".join(sorted(external)) + " external" if external else "all built in"


def actions_toml(external: frozenset[str]) -> str:
    return "[actions]\n" + "".join(f'{key} = "{URLS[key]}"\n' for key in sorted(external))


Build = Callable[..., Flask]


@pytest.fixture
def build(tmp_path: Path) -> Build:
    """A migrated portal with `external` actions set to URLs and only the tables asked for; by
    default the ones those that remain built in need ([oidc] for registration, [directory] for any)."""
    def run(external: frozenset[str], *, oidc: bool | None = None, directory: bool | None = None,
            extra: str = "", theme: str = "default") -> Flask:
        path = tmp_path / "portal.toml"
        path.write_text(settings_toml(
            f"sqlite:///{tmp_path}/portal.db", f"{extra}\n[rollout]\nreset = \"everybody\"\n{actions_toml(external)}",
            oidc="register" not in external if oidc is None else oidc,
            directory=len(external) < len(URLS) if directory is None else directory, theme=theme))
        app = create_app(load_settings(path, {}))
        app.test_client_class = PortalClient
        with app.app_context():
            upgrade(get_store())
        return app
    return run


@pytest.fixture(scope="module")
def builtin_routes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """action -> a path for every route of its built-in blueprints (status API aside)."""
    folder = tmp_path_factory.mktemp("all-builtin")
    path = folder / "portal.toml"
    path.write_text(settings_toml(f"sqlite:///{folder}/portal.db"))
    app = create_app(load_settings(path, {}))
    urls = app.url_map.bind("portal.test")
    routes: dict[str, list[str]] = {key: [] for key in URLS}
    for rule in app.url_map.iter_rules():
        action = next((k for k, names in BLUEPRINTS.items() if rule.endpoint.split(".")[0] in names), None)
        if action is None or rule.endpoint == STATUS_API:
            continue
        sample = {name: _sample(converter) for name, converter in rule._converters.items()}
        routes[action].append(urls.build(rule.endpoint, sample, method=sorted(rule.methods or {"GET"})[0]))
    assert all(routes.values())
    return routes


def _sample(converter: BaseConverter) -> object:
    """A value the route's converter accepts."""
    if isinstance(converter, IntegerConverter):
        return 1
    return sorted(converter.items)[0] if isinstance(converter, AnyConverter) else "x"


@pytest.mark.parametrize("external", COMBINATIONS, ids=combination_id)
def test_each_combination_starts_with_what_it_needs_and_sends_external_routes_on(
        build: Build, builtin_routes: dict[str, list[str]], external: frozenset[str], slapd: Any) -> None:
    app = build(external)
    client = app.test_client()
    landing = client.get("/", base_url=BASE_URL).get_data(as_text=True)
    for key, url in URLS.items():
        assert (f'href="{url}"' in landing) == (key in external)
    for key in external:
        for path in builtin_routes[key]:
            for method in ("GET", "POST"):
                answer = client.open(path, method=method, base_url=BASE_URL, data={"current_password": "x"})
                assert (answer.status_code, answer.headers.get("Location")) == (303, URLS[key]), (method, path)
    builtin = set(URLS) - external
    assert {ep.split(".")[0] for ep in app.view_functions} & {"reset", "change"} == builtin & {"reset", "change"}
    assert ("register.index" in app.view_functions) == ("register" in builtin)
    if "reset" in builtin:
        assert 'href="/reset/"' in landing and client.get("/reset/", base_url=BASE_URL).status_code == 200
    if "change" in builtin:
        assert 'href="/change/"' in landing and client.get("/change/", base_url=BASE_URL).status_code == 200
    if "register" in builtin:
        assert client.get("/register", base_url=BASE_URL).headers["Location"].startswith("/signin")
    else:
        assert client.get("/api/v1/registration-status", base_url=BASE_URL).status_code == 404
    # sign-in only where registration (the one action that needs it) is built in: the defaults here
    signs_in = "register" in builtin
    assert ('href="/signin"' in landing) == signs_in
    assert (client.get("/signin", base_url=BASE_URL).status_code == 404) != signs_in
    assert client.get("/admin", base_url=BASE_URL).status_code == (302 if signs_in else 404)
    ready = client.get("/readyz", base_url=BASE_URL)
    assert ready.status_code == 200
    checks = {"database", "schema"} | ({"directory"} if builtin else set())
    assert set(ready.get_json()["checks"]) == checks


def test_a_pure_link_page_starts_without_oidc_or_directory_and_shows_the_theme(build: Build, tmp_path: Path) -> None:
    app = build(frozenset(URLS), theme="contoso")
    assert app.extensions["settings"].oidc is None and app.extensions["settings"].directory is None
    page = app.test_client().get("/", base_url=BASE_URL)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Contoso password portal" in text
    assert "https://servicedesk.contoso.com/" in text and "servicedesk@contoso.com" in text  # the help desk
    assert "form-action 'self'" in page.headers["Content-Security-Policy"]
    assert "<form" not in text and "Sign in" not in text
    # the commands that read accounts are not there either (flask --app wsgi --help)
    assert {"store", "outbox", "audit"} <= set(app.cli.commands)
    assert not {"directory", "registration", "campaign", "reports", "reminders"} & set(app.cli.commands)


def test_a_link_page_with_the_old_tables_still_in_place_uses_neither(build: Build) -> None:
    """Switching every action to a URL and keeping [oidc] and [directory]: nothing signs in or binds."""
    app = build(frozenset(URLS), oidc=True, directory=True)
    client = app.test_client()
    assert client.get("/signin", base_url=BASE_URL).status_code == 404
    assert client.get("/admin", base_url=BASE_URL).status_code == 404
    assert set(client.get("/readyz", base_url=BASE_URL).get_json()["checks"]) == {"database", "schema"}


def test_a_session_signed_in_before_the_switch_counts_for_nothing(build: Build) -> None:
    """Sessions outlive a settings change: on a link page without sign-in, nobody is signed in."""
    client = build(frozenset(URLS)).test_client()
    with client.session_transaction(base_url=BASE_URL) as session:
        session["user"] = {"user_id": 1, "username": "alice", "display_name": "Alice", "email": None,
                           "groups": ["portal-admins"], "auth_time": 0}
    page = client.get("/", base_url=BASE_URL)
    assert page.status_code == 200
    assert "Alice" not in page.get_data(as_text=True) and "signout" not in page.get_data(as_text=True)


@pytest.mark.parametrize("register_external", [False, True], ids=["register built in", "register external"])
def test_registration_is_enforced_at_sign_in_only_where_the_portal_runs_it(
        build: Build, oidc_provider: Any, slapd: Any, register_external: bool) -> None:
    """Change built in keeps sign-in (signed-in change); with registration elsewhere nobody is held at
    the notice page for info the portal cannot see."""
    external = frozenset({"reset", "register"} if register_external else {"reset"})
    app = build(external, oidc=True, extra="[registration]\nrequire_registration = true\n")
    client = app.test_client()
    answer = client.get(provider_callback(client, "alice"), base_url=BASE_URL)
    assert answer.status_code == 302
    assert answer.headers["Location"] == ("/" if register_external else "/security-info/required")


def problems_of(build: Build, external: frozenset[str], **tables: Any) -> list[str]:
    with pytest.raises(SettingsError) as raised:
        build(external, **tables)
    return [f"{p.key}: {p.message}" for p in raised.value.problems]


def test_the_settings_name_the_table_a_builtin_action_needs(build: Build) -> None:
    [directory] = problems_of(build, frozenset({"register", "change"}), directory=False)
    assert directory.startswith('directory: is required because [actions] reset is "builtin"')
    [both] = problems_of(build, frozenset({"register"}), directory=False)
    assert 'change, reset are "builtin"' in both
    [oidc] = problems_of(build, frozenset({"reset", "change"}), oidc=False)
    assert oidc == 'oidc: is required because [actions] register is "builtin" (people sign in to register)'
    # reset and change work signed out: no [oidc] needed for them
    assert build(frozenset({"register"}), oidc=False).test_client().get("/signin", base_url=BASE_URL).status_code == 404


def test_admin_groups_need_sign_in_and_the_directory(build: Build) -> None:
    found = problems_of(build, frozenset(URLS), extra='[admin]\ngroups = ["portal-admins"]')
    assert [p.split(":")[0] for p in found] == ["directory", "oidc"]
    assert all("[admin] groups is set" in p for p in found)
    app = build(frozenset(URLS), oidc=True, directory=True, extra='[admin]\ngroups = ["portal-admins"]')
    assert app.test_client().get("/admin", base_url=BASE_URL).headers["Location"].startswith("/signin")


def test_no_directory_write_through_the_routes_of_an_external_action(build: Build, slapd: Any) -> None:
    """Reset built in keeps the directory; change and register as URLs must never reach it."""
    stack = SlapdStack(slapd)
    person = stack.add_person()
    app = build(frozenset({"change", "register"}))
    client = app.test_client()
    for path in ("/change/", "/change"):
        answer = client.post(path, base_url=BASE_URL, data={
            "login": person.login, "current_password": person.password,
            "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
        assert (answer.status_code, answer.headers["Location"]) == (303, URLS["change"])
    assert client.post("/register/email", base_url=BASE_URL, data={"email": "x@example.test"}).status_code == 303
    assert stack.binds(person, person.password) and not stack.binds(person, NEW_PASSWORD)
    assert audit_events(app, "password.") == []
    assert not any(ep.startswith(("change.", "register.", "enforce.")) for ep in app.view_functions)


@pytest.mark.parametrize("width", [1280, 390])
def test_the_pure_link_page_in_a_browser(build: Build, width: int) -> None:
    """Chromium on a live link page: accessible, no overflow on a phone, and each card leaves the site."""
    server = make_server("127.0.0.1", TEST.portal, build(frozenset(URLS), theme="contoso"), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
            # the external sites, answered here: tests reach no one outside
            page.route("https://**/*", _elsewhere)
            page.goto(TEST.portal_url + "/")
            assert Axe().run(page).response["violations"] == []
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert page.locator("form").count() == 0
            assert page.eval_on_selector_all("a.action-link", "links => links.map(a => a.href)") == list(URLS.values())
            page.get_by_role("link", name="Reset my password").click()
            page.wait_for_url(URLS["reset"])
            browser.close()
    finally:
        server.shutdown()
        thread.join()


def _elsewhere(route: Route) -> None:
    route.fulfill(status=200, content_type="text/html", body="<title>elsewhere</title>")
