"""The audit log viewer: filters, pages, a spreadsheet-safe export, and no way to change the log."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal import clock
from portal.services.security import audit
from portal.store import get_store
from portal.store.audit import AuditEvent
from tests.admin_support import ADMIN, admin_app, post  # noqa: F401
from tests.registration_support import sign_in

TODAY = clock.utcnow().date()
INJECTIONS = ['=HYPERLINK("http://evil.example","open")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def record(app: Flask, event: str, outcome: str, username: str | None, ago: timedelta = timedelta(0),
           **fields: Any) -> None:
    with app.app_context(), get_store().transaction() as db, clock.travel(-ago):
        audit.record(db, event, outcome, username=username, ip="192.0.2.1", **fields)


def events_in(app: Flask) -> int:
    with app.app_context(), get_store().transaction() as db:
        return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.fixture
def app(admin_app: Callable[..., Flask]) -> Flask:
    app = admin_app()
    record(app, "reset.password", audit.SUCCESS, "alice", timedelta(days=2))
    record(app, "reset.password", audit.FAILURE, "Bob", timedelta(days=1), reason="too_short")
    record(app, "password.change", audit.FAILURE, "bob", reason="wrong_password")
    record(app, "registration.method_added", audit.SUCCESS, "carol", details={"method": "totp"})
    return app


@pytest.fixture
def admin(app: Flask) -> Any:
    client = app.test_client()
    sign_in(client, ADMIN)
    return client


def rows_of(page: str) -> int:
    body = page[page.index("<tbody>"):page.index("</tbody>")] if "<tbody>" in page else ""
    return body.count("<tr>")


def test_filters_by_user_event_outcome_and_date(admin: Any) -> None:
    everything = admin.get("/admin/audit").get_data(as_text=True)
    assert rows_of(everything) == 5 and "auth.signin" in everything  # the four above and the admin's sign-in
    by_user = admin.get("/admin/audit?user=BOB").get_data(as_text=True)  # case-insensitive, both spellings
    assert rows_of(by_user) == 2 and "alice" not in by_user
    assert rows_of(admin.get("/admin/audit?event=reset.password").get_data(as_text=True)) == 2
    assert rows_of(admin.get("/admin/audit?outcome=failure").get_data(as_text=True)) == 2
    yesterday = TODAY - timedelta(days=1)
    page = admin.get(f"/admin/audit?from={yesterday}&to={yesterday}").get_data(as_text=True)
    assert rows_of(page) == 1 and "too_short" in page
    assert "method=totp" in admin.get("/admin/audit?user=carol").get_data(as_text=True)


def test_bad_filters_get_a_clear_400(admin: Any) -> None:
    for query, message in (("outcome=deleted", "must be one of success, failure, refused, unknown"),
                           ("from=31.12.2026", "must be a date such as 2026-03-31"),
                           *((f"before={number}", "must be a whole number from 1 to 2147483647")
                             for number in ("abc", "9" * 40, "-1", "\u00b2", "\u0661\u0662"))):
        response = admin.get(f"/admin/audit?{query}")
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert admin.get("/admin/audit.csv?outcome=deleted").status_code == 400


def test_long_logs_come_a_page_at_a_time(app: Flask, admin: Any) -> None:
    for n in range(60):
        record(app, "code.sent", audit.SUCCESS, f"user{n:02d}")
    first = admin.get("/admin/audit").get_data(as_text=True)
    assert rows_of(first) == 50 and "user59" in first and "Older entries" in first
    older = first[first.index('href="/admin/audit?before='):].split('"')[1].replace("&amp;", "&")
    second = admin.get(older).get_data(as_text=True)
    # ten codes, the four entries of the fixture and the administrator's sign-in
    assert rows_of(second) == 15 and "alice" in second and "Older entries" not in second
    assert 'href="/admin/audit">Newest entries</a>' in second


def test_the_pages_keep_the_filters_and_nothing_else_from_the_query(app: Flask, admin: Any) -> None:
    for n in range(55):
        record(app, "code.sent", audit.SUCCESS, "dana")
    page = admin.get("/admin/audit?user=dana&_external=1&_scheme=javascript&event=").get_data(as_text=True)
    assert rows_of(page) == 50 and "javascript" not in page.split("<main", 1)[1].split("</main>", 1)[0]
    older = page[page.index('href="/admin/audit?before='):].split('"')[1].replace("&amp;", "&")
    assert older.endswith("&user=dana") and 'href="/admin/audit.csv?user=dana"' in page
    assert rows_of(admin.get(older).get_data(as_text=True)) == 5


def test_each_entry_names_its_columns_for_the_narrow_layout(admin: Any) -> None:
    page = admin.get("/admin/audit?user=carol").get_data(as_text=True)
    assert 'class="data-table stacked-table audit-table"' in page
    assert '<td data-label="Event">registration.method_added</td>' in page
    assert '<td data-label="Details">method=totp</td>' in page


def test_the_export_neutralizes_spreadsheet_formulas(app: Flask, admin: Any) -> None:
    for text in INJECTIONS:
        record(app, "reset.identify", audit.REFUSED, text, reason=text[:64], details={"typed": text})
    response = admin.get("/admin/audit.csv?event=reset.identify")
    assert response.content_type.startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["time", "event", "user", "outcome", "reason", "ip", "request_id", "details"]
    assert len(rows) == 1 + len(INJECTIONS)
    for row in rows[1:]:
        user, reason, details = row[2], row[4], row[7]
        assert user[0] == "'" and user[1:] in INJECTIONS
        assert reason[0] == "'"
        assert not details.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_the_cli_exports_the_same_file(app: Flask, admin: Any) -> None:
    page = admin.get("/admin/audit.csv?user=bob").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["audit", "export", "--user", "bob"])
    assert result.exit_code == 0 and result.stdout_bytes.decode() == page
    assert page.count("\r\n") == 3


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_entries_cannot_be_changed_or_deleted_from_the_portal(app: Flask, admin: Any, method: str) -> None:
    token = admin.csrf_token("/admin/audit")
    before = events_in(app)
    for path in ("/admin/audit", "/admin/audit.csv", "/admin/audit/1"):
        response = admin.open(path, method=method, data={"csrf_token": token, "event": "x"})
        assert response.status_code in (404, 405), (method, path)
    assert events_in(app) == before
    writable = [r for r in app.url_map.iter_rules() if "audit" in r.rule and r.methods - {"GET", "HEAD", "OPTIONS"}]
    assert writable == []


def test_an_admin_action_is_audited_with_its_request_id(app: Flask, admin: Any) -> None:
    created = post(admin, "/admin/campaigns/new", {"template": "coming_soon", "audience": "everybody"},
                   headers={"X-Request-ID": "admin-req-0001"})
    assert created.headers["X-Request-ID"] == "admin-req-0001"
    page = admin.get("/admin/audit?event=campaign.created").get_data(as_text=True)
    assert rows_of(page) == 1 and "admin-req-0001" in page and ">erin<" in page
