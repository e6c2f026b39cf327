"""What auditors ask of the trail: sign-in and sign-out, refused and granted administration, errors.

Every event names the account (when known), the address and the request id, and none holds
an authorization code, state or token.
"""
from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select, text

from portal.services.security import audit
from portal.store import get_store
from portal.store.audit import AuditEvent
from tests.admin_support import ADMIN, NOT_ADMIN, admin_app, location, post  # noqa: F401 - fixture
from tests.conftest import PortalClient, provider_callback
from tests.registration_support import sign_in
from tests.support import REPO_BRANDING


def events(app: Flask, event: str) -> list[AuditEvent]:
    with app.app_context(), get_store().transaction() as tx:
        return list(tx.scalars(select(AuditEvent).where(AuditEvent.event == event).order_by(AuditEvent.id)))


def every_value_on_record(app: Flask) -> str:
    with app.app_context(), get_store().transaction() as tx:
        return " ".join(f"{e.event} {e.username} {e.reason} {e.details}" for e in tx.scalars(select(AuditEvent)))


# --- sign-in and sign-out -----------------------------------------------------------------------

def test_sign_in_and_sign_out_are_on_record_with_address_and_request_id(client: PortalClient, app: Flask) -> None:
    client.get(provider_callback(client, "alice"), headers={"X-Request-ID": "signin-req-0001"})
    client.post("/signout", data={"csrf_token": client.csrf_token()}, headers={"X-Request-ID": "signout-req-001"})
    [signed_in] = events(app, "auth.signin")
    [signed_out] = events(app, "auth.signout")
    assert (signed_in.username, signed_in.outcome, signed_in.ip, signed_in.request_id) == \
        ("alice", audit.SUCCESS, "127.0.0.1", "signin-req-0001")
    assert (signed_out.username, signed_out.outcome, signed_out.request_id) == \
        ("alice", audit.SUCCESS, "signout-req-001")


def test_a_refused_sign_in_is_on_record_without_its_code_or_state(client: PortalClient, app: Flask) -> None:
    callback = provider_callback(client, "alice")
    query = parse_qs(urlsplit(callback).query)
    assert client.get(callback.replace("state=", "state=x")).status_code == 400
    [refused] = events(app, "auth.signin")
    assert (refused.username, refused.outcome, refused.reason) == (None, audit.FAILURE, "rejected")
    assert "state" in str(refused.details["problem"])      # why, in words
    on_record = every_value_on_record(app)
    assert query["code"][0] not in on_record and query["state"][0] not in on_record


# --- administration -----------------------------------------------------------------------------

@pytest.fixture
def admin_portal(admin_app: Callable[..., Flask]) -> Flask:  # noqa: F811 - fixture
    return admin_app()


def test_refused_administration_names_the_person_and_the_page(admin_portal: Flask) -> None:
    client = admin_portal.test_client()
    sign_in(client, NOT_ADMIN)
    assert client.get("/admin/audit.csv?user=alice").status_code == 403
    [refused] = events(admin_portal, "admin.refused")
    assert (refused.username, refused.outcome) == (NOT_ADMIN, audit.REFUSED)
    assert refused.details == {"page": "admin.audit_csv", "path": "/admin/audit.csv", "query": "user=alice"}
    assert events(admin_portal, "admin.downloaded") == []


def test_every_view_and_download_of_personal_data_is_on_record(admin_portal: Flask) -> None:
    client = admin_portal.test_client()
    sign_in(client, ADMIN)
    campaign = location(post(client, "/admin/campaigns/new", {"template": "coming_soon", "audience": "everybody"}))
    shown = {"/admin/reports?group=staff": "admin.viewed", "/admin/audit?user=bob": "admin.viewed",
             "/admin/reports/coverage.csv?from=2026-01-01": "admin.downloaded",
             "/admin/audit.csv?outcome=failure": "admin.downloaded",
             f"{campaign}/recipients.csv": "admin.downloaded"}
    for path in shown:
        assert client.get(path).status_code == 200, path
    on_record = [(e.event, e.details["path"], e.details["query"], e.username)
                 for e in events(admin_portal, "admin.viewed") + events(admin_portal, "admin.downloaded")]
    for path, event in shown.items():
        parts = urlsplit(path)
        assert (event, parts.path, parts.query, ADMIN) in on_record, path


def test_a_failed_page_is_not_recorded_as_shown(admin_portal: Flask) -> None:
    client = admin_portal.test_client()
    sign_in(client, ADMIN)
    assert client.get("/admin/audit.csv?from=not-a-date").status_code == 400
    assert events(admin_portal, "admin.downloaded") == []


# --- unexpected errors --------------------------------------------------------------------------

@pytest.fixture
def failing_app(make_app: Callable[..., Flask]) -> Flask:
    app = make_app()

    @app.get("/boom")
    def boom() -> str:
        with get_store().transaction() as db:
            audit.record(db, "half.done", audit.SUCCESS)   # a write the error leaves half done
            db.flush()
            raise RuntimeError("internal detail")

    @app.get("/crash")
    def crash() -> str:
        raise RuntimeError("internal detail")                  # fails before touching the store

    return app


def test_an_unexpected_error_shows_its_request_id_and_puts_it_on_record(failing_app: Flask) -> None:
    response = failing_app.test_client().get("/boom", headers={"X-Request-ID": "boom-req-00001"})
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "give them this reference: <code class=\"reference\">boom-req-00001</code>" in page
    assert "internal detail" not in page
    [error] = events(failing_app, "error.unexpected")
    assert (error.request_id, error.outcome, error.reason, error.details) == \
        ("boom-req-00001", audit.FAILURE, "RuntimeError", {"endpoint": "boom"})
    assert events(failing_app, "half.done") == []           # rolled back, not committed with the record


def test_an_error_page_still_comes_when_the_trail_cannot_be_written(failing_app: Flask,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    with failing_app.app_context():
        with get_store().engine.begin() as connection:
            connection.execute(text("DROP TABLE audit_events"))
    with caplog.at_level(logging.ERROR):
        response = failing_app.test_client().get("/crash", headers={"X-Request-ID": "boom-req-00002"})
    assert response.status_code == 500
    assert "boom-req-00002" in response.get_data(as_text=True)
    assert "the unexpected error could not be recorded in the audit trail" in caplog.text


def test_a_theme_error_page_that_cannot_render_still_names_the_reference(make_app: Callable[..., Flask],
                                                                         tmp_path: Path) -> None:
    branding = tmp_path / "branding"
    shutil.copytree(REPO_BRANDING, branding)
    (branding / "default" / "templates").mkdir()
    (branding / "default" / "templates" / "error.html").write_text("{{ config.SECRET_KEY }}")   # refused
    app = make_app(environ={"PORTAL_BRANDING_DIR": str(branding)})

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("internal detail")

    response = app.test_client().get("/boom", headers={"X-Request-ID": "fallback-req-01"})
    assert response.status_code == 500
    assert "<h1>Something went wrong on our side</h1>" in response.get_data(as_text=True)
    assert "<code>fallback-req-01</code>" in response.get_data(as_text=True)
