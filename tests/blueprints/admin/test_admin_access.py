"""/admin is for members of the administrator groups only, on every route, checked on every request."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from devstack import people
from devstack.oidc_provider import sign_in as sign_in_at_provider
from portal import clock
from portal.store import get_store
from portal.store.campaigns import Campaign
from tests.admin_support import ADMIN, NOT_ADMIN, admin_app, location, post  # noqa: F401 - fixture
from tests.conftest import PortalClient
from tests.registration_support import sign_in, sign_in_long_ago

SAMPLE_VALUES = {"campaign_id": 1, "name": "coverage"}


def admin_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, path) of every route of the admin blueprint, with sample values filled in."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            path = rule.build({name: SAMPLE_VALUES[name] for name in rule.arguments})[1]  # type: ignore[index]
            routes += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return routes


@pytest.fixture
def app(admin_app: Callable[..., Flask]) -> Flask:
    app = admin_app()
    with app.app_context(), get_store().transaction() as db:  # campaign 1 exists, so routes resolve
        db.add(Campaign(template="coming_soon", audience="everybody", theme="default", status="draft",
                        created_by="erin", created_at=clock.utcnow()))
    return app


def campaigns_in(app: Flask) -> int:
    with app.app_context(), get_store().transaction() as db:
        return db.scalar(select(func.count()).select_from(Campaign)) or 0


def test_the_admin_blueprint_has_the_routes_this_file_checks(app: Flask) -> None:
    routes = admin_routes(app)
    assert ("GET", "/admin/audit.csv") in routes and ("GET", "/admin/reports/coverage.csv") in routes
    assert ("POST", "/admin/campaigns/1/send") in routes
    assert len(routes) >= 14


def test_a_signed_in_non_administrator_is_refused_on_every_route(app: Flask, client: PortalClient,
                                                                 sign_in_as: Callable[..., Any]) -> None:
    sign_in_as(NOT_ADMIN)
    for method, path in admin_routes(app):
        response = client.get(path) if method == "GET" else post(client, path)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "You can't open this page" in response.get_data(as_text=True)
    assert campaigns_in(app) == 1  # the refused POSTs changed nothing


def test_signed_out_visitors_are_sent_to_sign_in_and_see_nothing(app: Flask, client: PortalClient) -> None:
    for method, path in admin_routes(app):
        response = client.get(path) if method == "GET" else post(client, path, token_from="/reset/")
        assert response.status_code == 302, (method, path)
        assert location(response).startswith("/signin?next=")
        assert "text/csv" not in response.content_type
    assert campaigns_in(app) == 1


def test_an_administrator_sees_settings_without_secrets_rollout_and_readiness(
        client: PortalClient, sign_in_as: Callable[..., Any], settings: Any) -> None:
    sign_in_as(ADMIN)
    page = client.get("/admin").get_data(as_text=True)
    assert "Self-service reset is enabled for everybody." in page
    for check in ("database", "directory", "identity provider", "mail"):
        assert f'<th scope="row">{check}</th>' in page
    assert "Failed" not in page                       # every service of the dev stack answers
    assert "oidc.client_secret" in page and "(hidden)" in page
    for secret in (settings.oidc.client_secret, settings.secret_key, settings.directory.bind_password):
        assert secret not in page
    assert settings.database.url.split("///")[1] not in page  # a database URL can hold a password


def test_a_failing_service_shows_as_failed(admin_app: Callable[..., Flask]) -> None:
    client = admin_app(environ={"PORTAL_MAIL__PORT": "9"}).test_client()  # nothing listens there
    sign_in(client, ADMIN)
    page = client.get("/admin").get_data(as_text=True)
    assert '<th scope="row">mail</th>' in page and "Failed: " in page


def test_access_follows_the_groups_of_the_current_sign_in(client: PortalClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as(ADMIN)
    assert client.get("/admin/reports").status_code == 200
    with client.session_transaction() as session:  # the next sign-in no longer carries the group
        user = dict(session["user"])
        user["groups"] = [g for g in user["groups"] if g != people.ADMIN_GROUP]
        session["user"] = user
    assert client.get("/admin/reports").status_code == 403
    assert client.get("/admin/reports?groups=portal-admins").status_code == 403


def test_changes_need_a_recent_sign_in_then_work(app: Flask, client: PortalClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as(ADMIN)
    sign_in_long_ago(client, minutes=16)  # admin.recent_sign_in_minutes is 15
    response = post(client, "/admin/campaigns/new", {"template": "coming_soon", "audience": "everybody"})
    assert response.status_code == 302 and location(response) == "/admin/reauth?next=/admin/campaigns"
    assert campaigns_in(app) == 1

    to_provider = client.get("/admin/reauth?next=/admin/campaigns")
    assert parse_qs(urlsplit(to_provider.headers["Location"]).query)["max_age"] == ["0"]
    with requests.Session() as browser:  # the provider asks for the password again
        callback = sign_in_at_provider(browser, to_provider.headers["Location"], ADMIN, people.person(ADMIN).password)
    back = client.get(f"{urlsplit(callback).path}?{urlsplit(callback).query}")
    assert location(back) == "/admin/campaigns"

    response = post(client, "/admin/campaigns/new", {"template": "coming_soon", "audience": "everybody"})
    assert response.status_code == 303 and campaigns_in(app) == 2
    forged = client.post("/admin/campaigns/new", data={"template": "coming_soon", "audience": "everybody"})
    assert forged.status_code == 400 and campaigns_in(app) == 2  # no CSRF token, no campaign


def test_reauthentication_only_returns_to_admin_pages(client: PortalClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as(ADMIN)
    client.get("/admin/reauth?next=//evil.example/admin")
    with client.session_transaction() as session:
        assert session["signin_next"] == "/admin"
