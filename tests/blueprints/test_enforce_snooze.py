"""The notice page says who asks, why and how long it takes, and offers "not now" while the
allowance lasts: a person who postpones continues where they were going (back to another
application too), is asked again at their next sign-in, and once the allowance is used up or
the deadline has come, is not let past. "Not now" is a state change: without CSRF it is refused."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from portal import clock
from portal.store.audit import AuditEvent
from tests.registration_support import APP_ORIGIN, REQUIRED, post, sign_in, portal_app, sms_gateway  # noqa: F401

LATER = "/security-info/required/later"
NOT_NOW = ">Not now</button>"


def snoozes_on_record(app: Flask) -> int:
    with app.extensions["store"].transaction() as db:
        return db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.event == "enforcement.snoozed")) or 0


def interrupted(app: Flask, next_path: str = "/?from=mail") -> tuple[FlaskClient, str]:
    """carol (no methods) signs in in a new browser: the notice page she is shown."""
    client = app.test_client()
    assert sign_in(client, "carol", next_path=next_path).headers["Location"] == REQUIRED
    return client, client.get(REQUIRED).get_data(as_text=True)


def test_the_page_says_who_asks_why_and_how_long_and_not_now_continues(portal_app: Callable[..., Flask]) -> None:
    app = portal_app(registration="snooze_times = 2")

    client, page = interrupted(app)

    # who asks (the theme's organization, branding/default) and why
    assert "Your organization requires you to verify your authentication information" in page
    assert "it takes about two minutes" in page                                       # how long
    assert NOT_NOW in page and "You can postpone this 2 more times." in page
    later = post(client, LATER)
    assert (later.status_code, later.headers["Location"]) == (303, "/?from=mail")
    assert client.get("/").status_code == 200     # not sent back for the rest of this session
    assert snoozes_on_record(app) == 1

    _again, page = interrupted(app)                # the next sign-in asks again
    assert "You can postpone this 1 more time." in page


def test_once_the_allowance_is_used_up_there_is_no_way_past(portal_app: Callable[..., Flask]) -> None:
    app = portal_app(registration="snooze_times = 1")
    client, _page = interrupted(app)
    post(client, LATER)

    client, page = interrupted(app)

    assert NOT_NOW not in page and "This can no longer be postponed." in page
    refused = post(client, LATER)     # a form kept open from before
    assert (refused.status_code, refused.headers["Location"]) == (303, REQUIRED)
    assert "You can no longer postpone this" in client.get(REQUIRED).get_data(as_text=True)
    assert client.get("/").headers["Location"] == REQUIRED
    assert snoozes_on_record(app) == 1


def test_the_window_in_days_and_the_deadline_are_shown_then_enforced(portal_app: Callable[..., Flask]) -> None:
    deadline = (clock.utcnow() + timedelta(days=20)).date()
    app = portal_app(registration=f'snooze_times = 3\nsnooze_days = 7\nrequired_from = "{deadline.isoformat()}"')
    client, page = interrupted(app)
    day = deadline.isoformat()
    assert f'From <time datetime="{day}">{day}</time> it is required.' in page
    with clock.travel(timedelta(days=-8)):
        assert post(client, LATER).status_code == 303

    _client, page = interrupted(app)    # 8 days after the first "not now", 7 allowed
    assert NOT_NOW not in page

    passed = portal_app(registration=f'required_from = "{clock.utcnow().date().isoformat()}"')
    _client, page = interrupted(passed)
    assert NOT_NOW not in page and "This can no longer be postponed." in page


def test_not_now_without_csrf_is_refused_and_not_counted(portal_app: Callable[..., Flask]) -> None:
    app = portal_app()
    client, _page = interrupted(app)

    refused = client.post(LATER)

    assert refused.status_code == 400
    assert snoozes_on_record(app) == 0
    assert client.get("/").headers["Location"] == REQUIRED


def test_not_now_on_the_way_back_returns_the_person_to_the_other_application(
        portal_app: Callable[..., Flask]) -> None:
    app = portal_app()
    client = app.test_client()
    target = f"{APP_ORIGIN}/after?x=1"
    resume = f"/enforce/continue?return_to={quote(target, safe='')}"
    assert sign_in(client, "carol", next_path=resume).headers["Location"] == REQUIRED
    page = client.get(REQUIRED)
    assert APP_ORIGIN in page.headers["Content-Security-Policy"]   # its form may lead back there

    later = post(client, LATER)

    assert later.headers["Location"] == resume
    assert client.get(resume).headers["Location"] == target
