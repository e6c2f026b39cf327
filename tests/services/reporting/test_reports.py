"""Reports count what the tests did: registrations in the store, changes through the real change
flow against slapd, reset and pause events in the audit trail; pages, CSV and CLI agree."""
from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from devstack import ldif
from devstack.people import BASE_DN
from devstack.slapd import Slapd
from portal import clock
from portal.adapters.directory import directory_for
from portal.services.container import collaborators
from portal.services.passwords import change as password_change
from portal.services.proofs import security_info
from portal.services.reset.verification import EVENT_PAUSED
from portal.services.reset.writer import EVENT_PASSWORD as RESET_EVENT
from portal.services.security import audit
from portal.store import get_store
from tests.admin_support import ADMIN, admin_app, directory_environ, refresh_standings  # noqa: F401
from tests.registration_support import sign_in
from tests.store_support import postgres_url  # noqa: F401 - fixture
from tests.support import inline_scripts

OU = f"ou=reports,{BASE_DN}"
POLICY = f"cn=reports,ou=policies,{BASE_DN}"
PASSWORD = "Report.Start.2026!"
TODAY = clock.utcnow().date()
SERIAL = itertools.count(clock.timestamp())


def days_ago(n: int) -> timedelta:
    return timedelta(days=n)


@pytest.fixture(scope="module")
def report_people(slapd: Slapd) -> None:
    """rep-amy and rep-bob in the pilot group, rep-cal and rep-dee not. Their policy has no lockout:
    every test tells the same story with wrong passwords, and the directory's count would add up."""
    records = [ldif.entry(OU, {"objectClass": "organizationalUnit", "ou": "reports"}),
               ldif.entry(POLICY, {"objectClass": ["device", "pwdPolicy"], "cn": "reports",
                                   "pwdAttribute": "userPassword", "pwdLockout": "FALSE", "pwdMinAge": "0",
                                   "pwdInHistory": "3", "pwdMaxAge": "0"})]
    for name, pilot in (("rep-amy", True), ("rep-bob", True), ("rep-cal", False), ("rep-dee", False)):
        dn = f"uid={name},{OU}"
        records.append(ldif.entry(dn, {"objectClass": "inetOrgPerson", "uid": name, "cn": name, "sn": "Report",
                                       "mail": f"{name}@example.test", "userPassword": PASSWORD,
                                       "pwdPolicySubentry": POLICY}))
        if pilot:
            records.append(ldif.modify(f"cn=sspr-pilot,ou=groups,{BASE_DN}", add={"member": dn}))
    slapd.apply(ldif.document(records))


def register(app: Flask, login: str, ago: timedelta) -> None:
    with app.app_context(), get_store().transaction() as db, clock.travel(-ago):
        user = directory_for().find_user(login)
        assert user is not None
        security_info.save_method(db, user, "email", destination=f"{login}@private.example")


def change_password(app: Flask, login: str, current: str, new: str, ago: timedelta) -> password_change.Changed:
    with app.app_context(), clock.travel(-ago):
        c = collaborators(app)
        result = password_change.change(c, user=c.directory.find_user(login), identifier=login, current=current,
                                        new=new)
        return result.outcome


def record(app: Flask, event: str, outcome: str, login: str, ago: timedelta, reason: str | None = None,
           **details: Any) -> None:
    """An audit event as the reset flow writes it."""
    with app.app_context(), get_store().transaction() as db, clock.travel(-ago):
        audit.record(db, event, outcome, username=login, reason=reason, details=details, ip="192.0.2.7")


@pytest.fixture(scope="module")
def amy_password() -> list[str]:
    """rep-amy's password in the directory now (each test's story changes it twice)."""
    return [PASSWORD]


def fresh_password() -> str:
    return f"Lantern-Harbor-{next(SERIAL)}-Quartz!"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_environ(request: pytest.FixtureRequest) -> dict[str, str]:
    """Reports count in SQL: each test on both stores."""
    if request.param == "postgresql":
        return {"PORTAL_DATABASE__URL": request.getfixturevalue("postgres_url")}
    return {}


@pytest.fixture
def app(admin_app: Callable[..., Flask], report_people: None, amy_password: list[str],
        store_environ: dict[str, str]) -> Flask:
    """A fresh store per test, with the same story: registrations, changes, resets and pauses."""
    app = admin_app(environ={**directory_environ(OU), **store_environ})
    register(app, "rep-cal", days_ago(200))  # long ago: due to re-confirm (reconfirm_days = 180)
    register(app, "rep-amy", days_ago(5))
    register(app, "rep-bob", days_ago(2))
    for ago in (days_ago(3), days_ago(0)):
        new = fresh_password()
        assert change_password(app, "rep-amy", amy_password[0], new, ago) is password_change.Changed.DONE
        amy_password[0] = new
    for _ in range(2):
        outcome = change_password(app, "rep-bob", "not-the-password", "Whatever.New.2026!", days_ago(1))
        assert outcome is password_change.Changed.WRONG_PASSWORD
    record(app, RESET_EVENT, audit.SUCCESS, "rep-cal", days_ago(1))
    record(app, RESET_EVENT, audit.FAILURE, "rep-dee", days_ago(1), reason="too_short")
    record(app, EVENT_PAUSED, audit.REFUSED, "rep-dee", timedelta(minutes=10), reason="too_many_failures", minutes=60)
    record(app, EVENT_PAUSED, audit.REFUSED, "rep-cal", timedelta(hours=2), reason="too_many_failures", minutes=60)
    refresh_standings(app)
    return app


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def report(client: Any, name: str, query: str = "") -> list[list[str]]:
    response = client.get(f"/admin/reports/{name}.csv?{query}")
    assert response.status_code == 200 and response.content_type.startswith("text/csv")
    return csv_rows(response.get_data(as_text=True))


@pytest.fixture
def admin(app: Flask) -> Any:
    client = app.test_client()
    sign_in(client, ADMIN)
    return client


def last_week() -> str:
    return f"from={TODAY - timedelta(days=6)}&to={TODAY}"


def test_coverage_over_time_follows_the_registrations(admin: Any) -> None:
    rows = report(admin, "coverage", last_week())
    assert rows[0] == ["day", "in_scope", "registered", "percent"]
    by_day = {date.fromisoformat(r[0]): (int(r[1]), int(r[2]), float(r[3])) for r in rows[1:]}
    assert by_day[TODAY - timedelta(days=6)] == (4, 1, 25.0)   # rep-cal, registered long ago
    assert by_day[TODAY - timedelta(days=5)] == (4, 2, 50.0)   # + rep-amy
    assert by_day[TODAY - timedelta(days=3)] == (4, 2, 50.0)
    assert by_day[TODAY - timedelta(days=2)] == (4, 3, 75.0)   # + rep-bob
    assert by_day[TODAY] == (4, 3, 75.0)                        # rep-dee never registered


def test_the_group_filter_narrows_every_report(admin: Any) -> None:
    coverage = report(admin, "coverage", f"{last_week()}&group=sspr-pilot")
    assert coverage[-1][1:] == ["2", "2", "100.0"]              # rep-amy and rep-bob
    activity = report(admin, "activity", f"{last_week()}&group=SSPR-Pilot")
    assert {row[1] for row in activity[1:]} == {"change"}        # the resets were rep-cal's and rep-dee's


def test_methods_in_use_and_who_is_due_to_reconfirm(admin: Any) -> None:
    methods = {row[0]: (int(row[1]), float(row[2])) for row in report(admin, "methods")[1:]}
    assert methods["email"] == (3, 75.0) and methods["totp"] == (0, 0.0)
    due = report(admin, "reconfirm")
    assert [row[0] for row in due[1:]] == ["rep-cal"] and int(due[1][4]) >= 200


def test_resets_and_changes_per_day_with_reasons(admin: Any) -> None:
    rows = report(admin, "activity", last_week())
    assert rows[0] == ["day", "action", "outcome", "reason", "count"]
    counted = {(date.fromisoformat(r[0]), r[1], r[2], r[3]): int(r[4]) for r in rows[1:]}
    yesterday, three_days_ago = TODAY - timedelta(days=1), TODAY - timedelta(days=3)
    assert counted[(three_days_ago, "change", "success", "")] == 1
    assert counted[(yesterday, "change", "failure", "wrong_password")] == 2
    assert counted[(yesterday, "reset", "success", "")] == 1
    assert counted[(yesterday, "reset", "failure", "too_short")] == 1
    assert counted[(TODAY, "change", "success", "")] == 1       # rep-amy's second change
    assert sum(counted.values()) == 6


def test_top_failure_reasons_and_paused_accounts(admin: Any) -> None:
    failures = report(admin, "failures", last_week())
    assert failures[1:3] == [["password.change", "wrong_password", "2"], ["reset.paused", "too_many_failures", "2"]]
    assert ["reset.password", "too_short", "1"] in failures
    paused = report(admin, "paused")
    assert [row[0] for row in paused[1:]] == ["rep-dee"]         # rep-cal's pause is over


def test_the_date_range_limits_the_audit_reports(admin: Any) -> None:
    only_today = report(admin, "activity", f"from={TODAY}&to={TODAY}")
    assert [row[1:] for row in only_today[1:]] == [["change", "success", "", "1"]]


def tile(page: str, key: str) -> tuple[int, str]:
    """The number a dashboard tile shows and where it leads."""
    found = re.search(rf'<a class="tile tile-{key}" id="tile-{key}" href="([^"]+)">\s*<span class="tile-value">(\d+)<',
                      page)
    assert found, key
    return int(found[2]), found[1].replace("&amp;", "&")


def test_the_dashboard_answers_how_the_rollout_is_going_at_a_glance(admin: Any) -> None:
    page = admin.get("/admin/reports").get_data(as_text=True)
    week = f"from={TODAY - timedelta(days=6)}&to={TODAY}"
    assert tile(page, "in_scope") == (4, f"/admin/reports/coverage?from={TODAY - timedelta(days=29)}&to={TODAY}")
    assert tile(page, "registered")[0] == 3 and "75.0% of people in scope</span>" in page
    assert tile(page, "reconfirm")[0] == 1                                    # rep-cal
    assert tile(page, "resets") == (1, f"/admin/reports/activity?{week}")    # rep-cal's (rep-dee's failed)
    assert tile(page, "changes")[0] == 2                                      # rep-amy's two
    failed = sum(int(row[2]) for row in report(admin, "failures", week)[1:])
    assert tile(page, "failures") == (failed, f"/admin/reports/failures?{week}") and failed == 5
    assert tile(page, "paused")[0] == 1                                       # rep-dee; rep-cal's pause is over
    reasons = page[page.index('id="top-reasons"'):]
    assert "wrong_password" in reasons[:reasons.index("</table>")]


def test_the_trends_are_drawn_on_the_server_with_their_numbers_as_tables(admin: Any) -> None:
    page = admin.get(f"/admin/reports?{last_week()}").get_data(as_text=True)
    assert page.count("<svg") == 3 and not inline_scripts(page) and "style=" not in page
    for name, title in (("registrations", "People who completed registration, per day"),
                        ("resets", "Successful password resets, per day"),
                        ("changes", "Successful password changes, per day")):
        figure = page[page.index(f'id="chart-{name}"'):]
        figure = figure[:figure.index("</figure>")]
        svg = figure[figure.index("<svg"):figure.index("</svg>")]
        assert f'role="img" aria-label="{title}"' in svg and f"<title>{title}</title>" in svg
        assert svg.count("<circle") == 7 and "http" not in svg
        assert "<details>" in figure and figure.count("<tr>") == 8             # a header and the 7 days
    changes = page[page.index('id="series-changes"'):]
    assert f"<td>{TODAY - timedelta(days=3)}</td><td>1</td>" in changes and f"<td>{TODAY}</td><td>1</td>" in changes


def test_every_detailed_table_has_its_page_and_its_csv(admin: Any) -> None:
    page = admin.get(f"/admin/reports?{last_week()}&group=sspr-pilot").get_data(as_text=True)
    for name in ("coverage", "methods", "reconfirm", "activity", "failures", "paused"):
        assert f'href="/admin/reports/{name}.csv?{last_week().replace("&", "&amp;")}&amp;group=sspr-pilot"' in page
        detail = admin.get(f"/admin/reports/{name}?{last_week()}")
        assert detail.status_code == 200, name
        assert f'href="/admin/reports/{name}.csv?{last_week().replace("&", "&amp;")}"' in detail.get_data(as_text=True)
    coverage = admin.get(f"/admin/reports/coverage?{last_week()}").get_data(as_text=True)
    assert 'role="img"' in coverage and "<polyline" in coverage and "People counted at the last refresh" in coverage
    assert '<a href="/admin/reports" aria-current="location">Reports</a>' in coverage    # where in the menu
    assert admin.get("/admin/reports/nothing").status_code == 404
    hostile = admin.get("/admin/reports?name=x&_external=1&_scheme=javascript").get_data(as_text=True)
    assert "javascript:" not in hostile and 'href="/admin/reports/coverage?' in hostile


def test_bad_filters_get_a_clear_400(admin: Any) -> None:
    response = admin.get("/admin/reports?from=yesterday")
    assert response.status_code == 400
    assert admin.get("/admin/reports/activity?from=yesterday").status_code == 400
    assert "must be a date such as 2026-03-31" in response.get_data(as_text=True)
    assert admin.get("/admin/reports/coverage.csv?from=2026-05-01&to=2026-04-01").status_code == 400
    assert admin.get("/admin/reports/nothing.csv").status_code == 404


def test_the_cli_prints_the_same_csv_as_the_page(app: Flask, admin: Any) -> None:
    for name in ("coverage", "activity", "failures"):
        page = admin.get(f"/admin/reports/{name}.csv?{last_week()}").get_data(as_text=True)
        result = app.test_cli_runner().invoke(args=["reports", "show", name, "--from", str(TODAY - timedelta(days=6)),
                                                    "--to", str(TODAY)])
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes.decode() == page
    assert app.test_cli_runner().invoke(args=["reports", "show", "coverage", "--from", "x"]).exit_code == 2


LONG_OU = f"ou=reports-long,{BASE_DN}"
LONG = 60  # more than a page (PAGE_SIZE = 50)


@pytest.fixture(scope="module")
def many_due(slapd: Slapd) -> list[str]:
    """60 people, each registered 200 days ago: all due to re-confirm."""
    names = [f"due-{n:02d}" for n in range(LONG)]
    slapd.apply(ldif.document([ldif.entry(LONG_OU, {"objectClass": "organizationalUnit", "ou": "reports-long"}),
                               *(ldif.entry(f"uid={name},{LONG_OU}", {"objectClass": "inetOrgPerson", "uid": name,
                                                                       "cn": name, "sn": "Due",
                                                                       "mail": f"{name}@example.test"})
                                 for name in names)]))
    return names


@pytest.fixture
def long_admin(admin_app: Callable[..., Flask], many_due: list[str], store_environ: dict[str, str]) -> Any:
    app = admin_app(environ={**directory_environ(LONG_OU), **store_environ})
    for n, name in enumerate(many_due):
        register(app, name, days_ago(200))
        record(app, RESET_EVENT, audit.SUCCESS, name, days_ago(n))  # one activity row per day
    refresh_standings(app)
    client = app.test_client()
    sign_in(client, ADMIN)
    return client


def page_rows(page: str, name: str) -> int:
    table = page[page.index(f'id="report-{name}"'):]
    return table[:table.index("</table>")].count("<tr>") - 1  # the header row


def test_long_tables_come_a_page_at_a_time(long_admin: Any, many_due: list[str]) -> None:
    first = long_admin.get("/admin/reports/reconfirm").get_data(as_text=True)
    assert page_rows(first, "reconfirm") == 50 and "Page 1 of 2 (60 rows)." in first
    assert "/admin/reports/reconfirm?page=2" in first and many_due[0] in first and many_due[-1] not in first
    second = long_admin.get("/admin/reports/reconfirm?page=2").get_data(as_text=True)
    assert page_rows(second, "reconfirm") == 10 and "Page 2 of 2 (60 rows)." in second
    assert many_due[-1] in second and many_due[0] not in second
    assert "People counted at the last refresh" in second
    for odd in ("0", "-1", "x", "99999999999", "\u00b2", "\u0661"):
        assert long_admin.get(f"/admin/reports/reconfirm?page={odd}").status_code == 200
    assert "Page 2 of 2" in long_admin.get("/admin/reports/reconfirm?page=99").get_data(as_text=True)


def test_activity_and_the_short_tables_come_a_page_at_a_time_too(long_admin: Any) -> None:
    days = f"from={TODAY - timedelta(days=LONG - 1)}&to={TODAY}"
    second = long_admin.get(f"/admin/reports/activity?{days}&page=2").get_data(as_text=True)
    assert page_rows(second, "activity") == 10 and "Page 2 of 2 (60 rows)." in second
    assert f"activity?{days.replace('&', '&amp;')}&amp;page=1" in second              # the filters stay on
    rows = report(long_admin, "activity", days)
    assert [date.fromisoformat(row[0]) for row in rows[1:]] == [TODAY - timedelta(days=n) for n in range(LONG)][::-1]
    coverage = long_admin.get(f"/admin/reports/coverage?{days}&page=2").get_data(as_text=True)
    assert page_rows(coverage, "coverage") == 10 and "Page 2 of 2 (60 rows)." in coverage
    assert coverage.count("<circle") == LONG                                          # the curve: every day
    board = long_admin.get(f"/admin/reports?{days}").get_data(as_text=True)
    assert tile(board, "reconfirm")[0] == LONG and tile(board, "resets")[0] == 7


def test_csv_files_and_the_cli_stream_the_whole_table(long_admin: Any, many_due: list[str]) -> None:
    response = long_admin.get("/admin/reports/reconfirm.csv")
    assert response.is_streamed
    rows = csv_rows(response.get_data(as_text=True))
    assert [row[0] for row in rows[1:]] == many_due       # every row, in login order
    result = long_admin.application.test_cli_runner().invoke(args=["reports", "show", "reconfirm"])
    assert result.exit_code == 0 and csv_rows(result.output) == rows


def test_the_page_and_the_cli_say_when_nothing_was_counted_yet(admin_app: Callable[..., Flask],
                                                               report_people: None) -> None:
    app = admin_app(environ=directory_environ(OU))
    client = app.test_client()
    sign_in(client, ADMIN)
    page = client.get("/admin/reports").get_data(as_text=True)
    assert "The people have not been counted yet" in page and tile(page, "in_scope")[0] == 0 and "flask --app wsgi reports refresh" in page
    result = app.test_cli_runner().invoke(args=["reports", "show", "coverage"])
    assert result.exit_code == 0 and "nobody has been counted yet" in result.stderr
    assert "nobody" not in result.stdout and result.stdout.startswith('"day","in_scope"')
