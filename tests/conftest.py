"""Shared fixtures: the portal built against the real dev stack (slapd, OIDC provider, SMTP).

Like flaskr's conftest: `app` builds a fresh portal per test from settings the test can vary,
`client` talks to it, and `sign_in_as` walks the real OpenID Connect round trip.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from devstack import people
from devstack.oidc_provider import OidcProvider, sign_in
from portal import create_app
from portal.settings import Settings, load_settings
from portal.store import get_store
from portal.store.migrate import upgrade
from tests.support import BASE_URL, CSRF_FIELD, SCREENSHOTS_KEY, SECOND_URL, settings_toml

pytest_plugins = ("devstack.fixtures",)

@pytest.fixture
def settings_file(tmp_path: Path) -> Callable[[str], Path]:
    """Write a settings file with extra top-level TOML; returns its path."""
    def write(extra: str = "") -> Path:
        path = tmp_path / "portal.toml"
        path.write_text(settings_toml(f"sqlite:///{tmp_path}/portal.db", extra))
        return path
    return write


@pytest.fixture
def make_app(settings_file: Callable[[str], Path]) -> Callable[..., Flask]:
    """Build a migrated portal from settings with `extra` top-level TOML."""
    def build(extra: str = "", environ: dict[str, str] | None = None) -> Flask:
        settings = load_settings(settings_file(extra), environ or {})
        return migrated(create_app(settings))
    return build


def migrated(app: Flask) -> Flask:
    """The app on a database brought to the newest schema (else every page is \"being updated\")."""
    app.test_client_class = PortalClient
    with app.app_context():
        upgrade(get_store())
    return app


@pytest.fixture
def app(make_app: Callable[..., Flask], oidc_provider: OidcProvider) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class PortalClient(FlaskClient):
    """Requests go to the configured host by default, as a browser on base_url would."""

    host_url = BASE_URL

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", self.host_url)
        return super().open(*args, **kwargs)

    def session_transaction(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("base_url", self.host_url)
        return super().session_transaction(*args, **kwargs)

    @property
    def session_cookie(self) -> str | None:
        cookie = self.get_cookie("portal_session", domain=urlsplit(self.host_url).hostname or "")
        return cookie.value if cookie else None

    def use_session_cookie(self, value: str) -> None:
        """Present another browser's session cookie (replay and fixation tests)."""
        self.set_cookie("portal_session", value, domain=urlsplit(self.host_url).hostname or "")

    def csrf_token(self, path: str = "/") -> str:
        match = CSRF_FIELD.search(self.get(path).get_data(as_text=True))
        assert match, f"no CSRF field on {path}"
        return match.group(1)


class SecondHostClient(PortalClient):
    """A browser on the portal's second host name (tests.support.hosts_toml), its cookies its own."""

    host_url = SECOND_URL


def second_host_client(app: Flask) -> SecondHostClient:
    return SecondHostClient(app, app.response_class, use_cookies=True)


def provider_callback(client: FlaskClient, username: str, password: str | None = None,
                      next_path: str | None = None) -> str:
    """Start sign-in at the portal and sign in at the real provider; return the callback path."""
    query = {"next": next_path} if next_path else {}
    start = client.get("/signin", query_string=query)
    assert start.status_code == 302, start.get_data(as_text=True)
    password = password if password is not None else people.person(username).password
    with requests.Session() as browser:
        callback = sign_in(browser, start.headers["Location"], username, password)
    parts = urlsplit(callback)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def sign_in_as(client: FlaskClient) -> Callable[..., Any]:
    """Sign the test client in as a demo person through the real provider."""
    def run(username: str, next_path: str | None = None) -> Any:
        response = client.get(provider_callback(client, username, next_path=next_path))
        assert response.status_code == 302, response.get_data(as_text=True)
        return response
    return run


@pytest.fixture
def settings(app: Flask) -> Settings:
    return app.extensions["settings"]




def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say where the browser tests put their screenshots, so a person can look at them."""
    folder = config.stash.get(SCREENSHOTS_KEY, None)
    if folder is not None:
        terminalreporter.write_line(f"browser screenshots: {folder}")
