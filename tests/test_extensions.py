"""The shared extensions (portal/extensions.py): the limiter skips its before-request check only
where no limit could apply, and a request resolves its translations once.

Each test builds its own RouteLimiter or RequestBabel on a small Flask app (the limiter with
in-memory storage), so what is set here never reaches the portal's shared instances; the
portal's own limits are tested per route (tests/services/security/test_rate_limits.py, the
reset, change and registration limit tests).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from babel.support import NullTranslations
from flask import Flask, render_template_string, request
from flask_babel import force_locale, gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from devstack.oidc_provider import OidcProvider
from portal.branding import use_theme
from portal.branding.catalogues import Catalogues
from portal.extensions import RouteLimiter
from tests.conftest import PortalClient
from tests.support import hosts_toml


def small_app(**options: Any) -> tuple[Flask, RouteLimiter]:
    """An app with one unlimited and one limited route, its limiter built with `options`."""
    app = Flask(__name__)
    limiter = RouteLimiter(get_remote_address, app=app, storage_uri="memory://", **options)

    @app.get("/open")
    def open() -> str:
        return "open"

    @app.get("/limited")
    @limiter.limit("2 per minute")
    def limited() -> str:
        return "limited"

    return app, limiter


def statuses(app: Flask, path: str, count: int = 3) -> list[int]:
    client = app.test_client()
    return [client.get(path).status_code for _ in range(count)]


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """The (endpoint, before-request?) of every check Flask-Limiter itself runs."""
    seen: list[tuple[str, bool]] = []
    original = Limiter._check_request_limit

    def recorded(self: Limiter, callable_name: str | None = None, in_middleware: bool = True) -> None:
        seen.append((request.endpoint or "", in_middleware))
        original(self, callable_name, in_middleware)

    monkeypatch.setattr(Limiter, "_check_request_limit", recorded)
    return seen


def test_an_unlimited_route_skips_the_check_and_a_limited_one_keeps_both(checks: list[tuple[str, bool]]) -> None:
    app, _limiter = small_app()
    assert statuses(app, "/open") == [200, 200, 200]
    assert statuses(app, "/limited") == [200, 200, 429]
    assert ("open", True) not in checks and ("open", False) not in checks
    assert checks.count(("limited", True)) == 3 and checks.count(("limited", False)) == 3


def test_a_limited_route_answers_with_its_limit_headers_and_an_unlimited_one_without() -> None:
    """Flask-Limiter's after-request hook is skipped where it checked nothing, and only there."""
    app, _limiter = small_app(headers_enabled=True)
    client = app.test_client()
    assert not [name for name in client.get("/open").headers.keys() if name.startswith("X-RateLimit")]
    answers = [client.get("/limited") for _ in range(3)]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].status_code == 429 and "Retry-After" in answers[2].headers


@pytest.mark.parametrize("kind", ["default_limits", "application_limits"])
def test_a_limit_beyond_routes_still_reaches_unlimited_routes(kind: str) -> None:
    app, _limiter = small_app(**{kind: ["2 per minute"]})
    assert statuses(app, "/open") == [200, 200, 429]


def test_the_portal_s_unlimited_pages_skip_the_check_and_its_limited_ones_do_not(
        make_app: Callable[..., Flask], oidc_provider: OidcProvider, checks: list[tuple[str, bool]]) -> None:
    client: PortalClient = make_app().test_client()
    client.get("/")
    client.get("/no-such-page")
    assert checks == []
    assert client.get("/signin", environ_base={"REMOTE_ADDR": "198.51.100.70"}).status_code == 302  # 30/minute
    assert ("auth.signin", True) in checks and ("auth.signin", False) in checks


# -- translations: the request's catalogue is resolved once -------------------------------------

@pytest.fixture
def german(make_app: Callable[..., Flask]) -> Flask:
    """The portal with the Contoso theme as a second host's, its requests asking for German."""
    return make_app(hosts_toml("contoso"))


@pytest.fixture
def resolved(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The (theme, language) of every catalogue lookup."""
    seen: list[str] = []
    original = Catalogues.get

    def recorded(self: Catalogues, theme: str, language: str) -> NullTranslations:
        seen.append(f"{theme}:{language}")
        return original(self, theme, language)

    monkeypatch.setattr(Catalogues, "get", recorded)
    return seen


GERMAN = {"headers": {"Accept-Language": "de"}}


def test_a_request_resolves_its_catalogue_once_for_python_and_templates(german: Flask, resolved: list[str]) -> None:
    with german.test_request_context("/", **GERMAN):
        assert [gettext("Sign out") for _ in range(3)] == ["Abmelden"] * 3
        assert render_template_string("{{ _('Sign out') }} {{ _('Sign out') }}") == "Abmelden Abmelden"
    assert resolved == ["default:de"]
    with german.test_request_context("/", **GERMAN):  # the next request resolves its own
        assert gettext("Sign out") == "Abmelden"
    assert resolved == ["default:de", "default:de"]


def test_a_forced_locale_or_another_theme_is_still_honoured_and_then_undone(german: Flask,
                                                                            resolved: list[str]) -> None:
    with german.test_request_context("/", **GERMAN):
        assert gettext("Sign out") == "Abmelden"
        with force_locale("en"):
            assert gettext("Sign out") == "Sign out"
        assert gettext("Sign out") == "Abmelden"
        with use_theme(german.extensions["themes"].themes["contoso"]):
            assert gettext("Password portal") == "Password portal"  # the default theme's title, not Contoso's
            assert gettext("Good passwords") == "Gute Passwörter"   # Contoso's own text, in its German
        assert gettext("Password portal") == "Passwortportal"
    assert resolved == ["default:de", "default:en", "contoso:de", "default:de"]  # force_locale puts the first back
