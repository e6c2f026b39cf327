""""Not now" is counted per person in the store: allowed snooze_times times, within snooze_days
days of the first, never from required_from on; each is on record, and confirming starts afresh."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any
from datetime import timedelta

from flask import Flask

from devstack.mailsink import MailSink
from devstack.oidc_provider import OidcProvider
from sqlalchemy import select

from portal import clock
from portal.adapters.directory import DirectoryUser
from portal.services.container import collaborators
from portal.services.proofs import security_info
from portal.services.registration import snooze
from portal.services.registration.snooze import _count
from portal.services.registration.policy import MISSING
from portal.store.audit import AuditEvent
from portal.store.security_info import SecurityProfile
from tests.registration_support import DIRECTORY_ENVIRON, registration_toml, portal_app, sms_gateway  # noqa: F401
from tests.store_support import postgres_url  # noqa: F401 - fixture


def carol(app: Flask) -> DirectoryUser:
    with app.app_context():
        found = collaborators(app).directory.find_user("carol")
    assert found is not None
    return found


def not_now(app: Flask, user: DirectoryUser) -> snooze.Allowance:
    with app.app_context():
        return snooze.snooze(collaborators(app), user, MISSING)


def allowance(app: Flask, user: DirectoryUser) -> snooze.Allowance:
    with app.app_context():
        return snooze.allowance(collaborators(app), user)


def on_record(app: Flask) -> list[tuple[str, str | None]]:
    with app.extensions["store"].transaction() as db:
        return [(e.event, e.reason) for e in db.scalars(select(AuditEvent).where(
            AuditEvent.event.startswith("enforcement.snooze")).order_by(AuditEvent.id))]


def test_not_now_is_allowed_n_times_then_refused(portal_app: Callable[..., Flask]) -> None:
    app = portal_app(registration="snooze_times = 2")
    user = carol(app)
    assert allowance(app, user).remaining == 2

    first, second, third = not_now(app, user), not_now(app, user), not_now(app, user)

    assert (first.allowed, first.remaining, second.allowed, second.remaining) == (True, 2, True, 1)
    assert (third.allowed, third.refused, third.remaining) == (False, snooze.USED_UP, 0)
    assert allowance(app, user).refused == snooze.USED_UP  # kept in the store, not in a session
    assert on_record(app) == [("enforcement.snoozed", MISSING), ("enforcement.snoozed", MISSING),
                              ("enforcement.snooze_refused", snooze.USED_UP)]


def test_the_snooze_window_counts_days_from_the_first_not_now(portal_app: Callable[..., Flask]) -> None:
    app = portal_app(registration="snooze_times = 5\nsnooze_days = 3")
    user = carol(app)
    with clock.travel(timedelta(days=-4)):
        started = not_now(app, user)
    assert started.allowed and started.until is None   # the window starts with this one
    with clock.travel(timedelta(days=-2)):
        within = allowance(app, user)
        assert within.allowed and within.remaining == 4
        assert within.until is not None and within.until.date() == (clock.utcnow() + timedelta(days=1)).date()

    assert not_now(app, user).refused == snooze.WINDOW   # 4 days after the first: over


def test_from_the_deadline_nobody_may_postpone(portal_app: Callable[..., Flask]) -> None:
    today = clock.utcnow().date()
    later = portal_app(registration=f'required_from = "{(today + timedelta(days=30)).isoformat()}"')
    ahead = allowance(later, carol(later))
    assert ahead.allowed and ahead.deadline == today + timedelta(days=30)

    app = portal_app(registration=f'required_from = "{today.isoformat()}"')
    refused = not_now(app, carol(app))

    assert (refused.allowed, refused.refused, refused.deadline) == (False, snooze.DEADLINE, None)
    assert on_record(app)[-1] == ("enforcement.snooze_refused", snooze.DEADLINE)


def test_no_not_now_when_switched_off(portal_app: Callable[..., Flask]) -> None:
    app = portal_app(registration="snooze_times = 0")
    assert not_now(app, carol(app)).refused == snooze.OFF


def test_confirming_starts_the_allowance_afresh(portal_app: Callable[..., Flask]) -> None:
    app = portal_app(registration="snooze_times = 1")
    user = carol(app)
    not_now(app, user)
    assert allowance(app, user).refused == snooze.USED_UP
    with app.app_context(), collaborators(app).store.transaction() as db:
        security_info.confirm(db, user)

    assert allowance(app, user).remaining == 1


def test_the_last_not_now_cannot_be_spent_twice(make_app: Callable[..., Flask], oidc_provider: OidcProvider,
                                                mailbox: MailSink, sms_gateway: Any, postgres_url: str) -> None:
    """Two tabs post "not now" at once (PostgreSQL, where the two transactions really overlap): the
    one that read the allowance first finds the last one spent when it comes to count it."""
    app = make_app(registration_toml(sms_gateway.url, registration="snooze_times = 1"),
                   environ={**DIRECTORY_ENVIRON, "PORTAL_DATABASE__URL": postgres_url})
    user = carol(app)
    c = collaborators(app)
    with app.app_context(), c.store.transaction() as db:
        security_info.profile_for(db, user)   # her profile exists (she registered before, say)
    with app.app_context(), c.store.transaction() as first:
        profile = security_info.profile_for(first, user)
        assert snooze.allowance_for(c.settings, profile, clock.utcnow()).allowed
        assert not_now(app, user).allowed   # the other tab, committed meanwhile

        assert _count(first, profile, 1, clock.utcnow()) is False
    with app.extensions["store"].transaction() as db:
        assert db.scalar(select(SecurityProfile.snoozes).where(SecurityProfile.directory_id == user.directory_id)) == 1
