"""Protections every page has: headers, CSRF, body limits, host checks, error pages that leak nothing."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.conftest import PortalClient
from tests.support import BASE_URL, SECOND_URL, hosts_toml, inline_scripts

PAGES = ["/", "/static/portal.css", "/theme.css", "/healthz", "/readyz", "/no-such-page", "/signout"]


@pytest.fixture
def plain_client(make_app: Callable[..., Flask]) -> PortalClient:
    """A portal that never talks to the provider: enough for headers and error pages."""
    return make_app().test_client()


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(plain_client: PortalClient, path: str) -> None:
    headers = plain_client.get(path).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers   # http://127.0.0.1 base URL: no HSTS


def test_pages_are_never_cached_but_assets_are(plain_client: PortalClient) -> None:
    assert plain_client.get("/").headers["Cache-Control"] == "no-store"
    assert "max-age=3600" in plain_client.get("/static/portal.css").headers["Cache-Control"]


def test_https_deployments_send_hsts_and_secure_cookies(make_app: Callable[..., Flask]) -> None:
    app = make_app(environ={"PORTAL_BASE_URL": "https://passwords.contoso.com"})
    client = app.test_client()
    response = client.get("/", base_url="https://passwords.contoso.com")
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    [cookie] = response.headers.getlist("Set-Cookie") or [""]
    assert cookie == "" or "Secure" in cookie
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_on_https_the_session_cookie_takes_the_host_prefix_and_what_it_requires(
        make_app: Callable[..., Flask]) -> None:
    app = make_app('[rollout]\nreset = "everybody"', environ={"PORTAL_BASE_URL": "https://passwords.contoso.com"})
    form = app.test_client().get("/reset/", base_url="https://passwords.contoso.com")  # its CSRF token: a session
    [cookie] = form.headers.getlist("Set-Cookie")
    name, *attributes = [part.strip() for part in cookie.split(";")]
    assert name.startswith("__Host-portal_session=")
    assert "Secure" in attributes and "Path=/" in attributes
    assert not [a for a in attributes if a.lower().startswith("domain")]


def test_no_inline_script_or_style_on_the_landing_page(plain_client: PortalClient) -> None:
    page = plain_client.get("/").get_data(as_text=True)
    assert not inline_scripts(page) and '<script src="/static/portal.js" defer></script>' in page
    assert "style=" not in page and "<style" not in page
    assert " on" + "click=" not in page


def test_state_changes_need_a_csrf_token(plain_client: PortalClient) -> None:
    response = plain_client.post("/signout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert "This page has expired" in response.get_data(as_text=True)


def test_requests_over_the_size_limit_get_413(plain_client: PortalClient) -> None:
    response = plain_client.post("/signout", data={"x": "a" * 70_000})
    assert response.status_code == 413
    assert "That request was too large" in response.get_data(as_text=True)


def test_error_pages_are_branded_and_leak_nothing(plain_client: PortalClient) -> None:
    response = plain_client.get("/no-such-page")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in page
    assert "Need help?" in page            # the help-desk block: people know whom to call
    assert "Traceback" not in page and "werkzeug" not in page.lower()


def test_an_unexpected_error_is_a_branded_500_without_details(make_app: Callable[..., Flask]) -> None:
    app = make_app()

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert "secret internal detail" not in response.get_data(as_text=True)


def test_links_never_come_from_the_host_header(make_app: Callable[..., Flask]) -> None:
    """The header only picks which configured host's base_url a link starts with: its port, its
    case and a host name that is not served never reach a link."""
    from portal.services.messaging.links import external_url

    app = make_app(hosts_toml())
    with app.test_request_context("/", base_url="http://LOCALHOST:9999"):
        assert external_url("auth.callback") == f"{SECOND_URL}/auth/callback"
    with app.test_request_context("/", base_url="https://passwords.evil.example"):
        assert external_url("auth.callback") == f"{BASE_URL}/auth/callback"


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(make_app: Callable[..., Flask]) -> None:
    from flask import request

    seen: list[str] = []
    app = make_app()
    app.get("/ip")(lambda: seen.append(request.remote_addr or "") or "ok")
    app.test_client().get("/ip", headers={"X-Forwarded-For": "203.0.113.9"},
                          environ_base={"REMOTE_ADDR": "10.0.0.1"})
    trusting = make_app("trusted_proxies = 1")
    trusting.get("/ip")(lambda: seen.append(request.remote_addr or "") or "ok")
    trusting.test_client().get("/ip", headers={"X-Forwarded-For": "203.0.113.9"},
                               environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert seen == ["10.0.0.1", "203.0.113.9"]


def test_health_and_readiness(plain_client: PortalClient) -> None:
    assert plain_client.get("/healthz").json == {"status": "ok"}
    ready = plain_client.get("/readyz")
    assert ready.json["checks"]["database"] == "ok"
