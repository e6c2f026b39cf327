"""The limiter (portal/extensions.py) skips its before-request check only where no limit could apply.

Each test builds its own RouteLimiter on a small Flask app with in-memory storage, so limits set
here never reach the portal's shared limiter; the portal's own limits are tested per route
(tests/services/security/test_rate_limits.py, the reset, change and registration limit tests).
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from devstack.oidc_provider import OidcProvider
from portal.extensions import RouteLimiter
from tests.conftest import PortalClient


def small_app(**limits: list[str]) -> tuple[Flask, RouteLimiter]:
    app = Flask(__name__)
    limiter = RouteLimiter(get_remote_address, app=app, storage_uri="memory://", **limits)  # type: ignore[arg-type]

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
