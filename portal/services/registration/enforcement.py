"""Whether a person must (re)register their security info before using the portal or another app.

One evaluation serves the sign-in interruption, /enforce for other applications and the status
API, so all three always agree. The steps (`check`, `return_url`, `registration_status`) take the
app's Collaborators and write what they put on record in a transaction of their own.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.directory import DirectoryUnavailable as DirectoryUnavailable  # from registration_status
from ...adapters.directory import DirectoryUser
from ...settings import Settings
from ...store import rows_changed
from ...store.security_info import SecurityProfile
from ..container import Collaborators
from ..messaging import webhooks
from ..proofs import security_info
from ..security import audit
from .policy import Policy, Status, policy_for, status
from .return_urls import allowed_return_url
from .rollout import reset_enabled_for

log = logging.getLogger(__name__)
EVENT_REQUIRED = "enforcement.required"
EVENT_RETURNED = "enforcement.returned"
EVENT_RETURN_REFUSED = "enforcement.return_refused"


@dataclass(frozen=True)
class StatusReport:
    """What the status API tells an integrator about one person."""

    login: str
    policy: Policy
    status: Status


def in_scope(settings: Settings, groups: Iterable[str]) -> bool:
    """Registration is required of the people self-service reset is rolled out to, where the portal
    runs registration itself (set to a URL, registering happens elsewhere: nothing to enforce here)."""
    return ("register" in settings.builtin_actions and settings.registration.require_registration
            and reset_enabled_for(settings.rollout, groups))


def evaluate(db: Session, settings: Settings, user: DirectoryUser, groups: Iterable[str]) -> tuple[Policy, Status]:
    policy = policy_for(settings, groups)
    info = security_info.load(db, user, settings.registration.directory_methods, settings.registration.phone)
    return policy, status(settings, policy, info, clock.utcnow())


def check(c: Collaborators, user: DirectoryUser, groups: Iterable[str], *, returning_to: str | None = None) -> Status:
    """Where `user` stands; registration that is due goes on record, and so does a compliant person
    sent back to another application at `returning_to` (its URL)."""
    with c.store.transaction() as db:
        _policy, found = evaluate(db, c.settings, user, groups)
        if not found.compliant:
            audit.record(db, EVENT_REQUIRED, audit.SUCCESS, username=user.login, reason=found.reason or "")
            _report_deadline(c, db, user)
        elif returning_to is not None:
            audit.record(db, EVENT_RETURNED, audit.SUCCESS, username=user.login,
                         details={"origin": returning_to.split("/", 3)[2][:100]})
    return found


def _report_deadline(c: Collaborators, db: Session, user: DirectoryUser) -> None:
    """Once the hard deadline (`required_from`) has come for a person the portal now requires to
    register, say so once to the endpoints that want it: a conditional UPDATE of their profile records the deadline reported, so
    two servers (or tabs) enforcing it at the same moment send one event, and a new deadline
    another."""
    deadline = c.settings.registration.deadline
    if deadline is None or c.clock.utcnow().date() < deadline or not webhooks.wanted(c.outbox, webhooks.DEADLINE_PASSED):
        return
    profile = security_info.profile_for(db, user)
    db.flush()  # a profile created just now gets its row first
    reported = rows_changed(db, update(SecurityProfile)
                            .where(SecurityProfile.id == profile.id,
                                   or_(SecurityProfile.deadline_passed_on.is_(None),
                                       SecurityProfile.deadline_passed_on != deadline))
                            .values(deadline_passed_on=deadline))
    if reported:
        webhooks.emit(db, c.outbox, webhooks.DEADLINE_PASSED, user, deadline=deadline.isoformat(),
                      event_id=webhooks.stable_id(webhooks.DEADLINE_PASSED, user.directory_id, deadline.isoformat()))


def return_url(c: Collaborators, value: str, *, username: str | None) -> str | None:
    """`value` if its origin is allowed; else None, logged and on record (by `username`, when
    someone is signed in)."""
    url = allowed_return_url(value, c.settings.registration.return_to_origins)
    if url is None:
        # escaped and cut short: it is attacker-controlled text
        shown = value[:200].encode("unicode_escape").decode("ascii")
        log.warning("return_to refused", extra={"return_to": shown})
        with c.store.transaction() as db:
            audit.record(db, EVENT_RETURN_REFUSED, audit.REFUSED, username=username, reason="origin_not_allowed",
                         details={"return_to": shown})
    return url


def registration_status(c: Collaborators, login: str) -> StatusReport | None:
    """For the status API: None when the directory knows no such person. Raises DirectoryUnavailable."""
    account = c.directory.find_user(login)
    if account is None:
        return None
    with c.store.transaction() as db:
        policy, found = evaluate(db, c.settings, account, account.groups)
    return StatusReport(account.login, policy, found)
