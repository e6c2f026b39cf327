""""Not now": how long a person may postpone registration that enforcement asks of them.

Entra ID lets people skip its registration interrupt a few times, within 14 days, then insists.
Here the same: up to `registration.snooze_times` times, within `snooze_days` days of the first
"not now", and never from `required_from` on (a hard deadline). What was used is kept on the
person's security profile, so it holds across sessions, browsers and portal servers; it starts
afresh when they confirm their info (proofs/security_info.py).

The allowance is decided again when "not now" is posted, and the count is a conditional UPDATE, so
two tabs cannot both spend the last one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.directory import DirectoryUser
from ...settings import Settings
from ...store import rows_changed
from ...store.security_info import SecurityProfile
from ..container import Collaborators
from ..proofs import security_info
from ..security import audit

EVENT_SNOOZED = "enforcement.snoozed"
EVENT_SNOOZE_REFUSED = "enforcement.snooze_refused"
# why "not now" is no longer offered
OFF = "off"              # snooze_times = 0
DEADLINE = "deadline"    # required_from has come
USED_UP = "used_up"      # snooze_times used
WINDOW = "window"        # snooze_days after the first "not now" have passed


@dataclass(frozen=True)
class Allowance:
    """What the notice page tells the person about postponing."""

    remaining: int             # "not now" left (0 when refused)
    until: datetime | None     # the end of the snooze window, once it has started
    deadline: date | None      # required_from, when set and not yet reached
    refused: str | None        # None, or OFF, DEADLINE, USED_UP, WINDOW

    @property
    def allowed(self) -> bool:
        return self.refused is None


def allowance_for(settings: Settings, profile: SecurityProfile | None, now: datetime) -> Allowance:
    """The rule itself, on what the profile says was used (no profile: nothing used yet)."""
    registration = settings.registration
    used = (profile.snoozes or 0) if profile else 0
    first = clock.as_utc(profile.first_snoozed_at) if profile and profile.first_snoozed_at else None
    until = first + timedelta(days=registration.snooze_days) if first else None
    deadline = registration.deadline
    refused = None
    if registration.snooze_times == 0:
        refused = OFF
    elif deadline is not None and now.date() >= deadline:
        refused = DEADLINE
    elif used >= registration.snooze_times:
        refused = USED_UP
    elif until is not None and now >= until:
        refused = WINDOW
    remaining = 0 if refused else registration.snooze_times - used
    return Allowance(remaining, until, None if refused == DEADLINE else deadline, refused)


def allowance(c: Collaborators, user: DirectoryUser) -> Allowance:
    with c.store.transaction() as db:
        return allowance_for(c.settings, security_info.find_profile(db, user.directory_id), c.clock.utcnow())


def snooze(c: Collaborators, user: DirectoryUser, reason: str) -> Allowance:
    """Count one "not now" if it is still allowed (on record either way); the allowance it was
    decided on. `reason` is why registration is due (policy.MISSING, ...), for the record."""
    with c.store.transaction() as db:
        now = c.clock.utcnow()
        profile = security_info.profile_for(db, user)
        found = allowance_for(c.settings, profile, now)
        times = c.settings.registration.snooze_times
        if found.allowed and _count(db, profile, times, now):
            audit.record(db, EVENT_SNOOZED, audit.SUCCESS, username=user.login, reason=reason,
                         details={"snoozes": times - found.remaining + 1})   # this one included
            return found
        refused = found if not found.allowed else Allowance(0, found.until, found.deadline, USED_UP)
        audit.record(db, EVENT_SNOOZE_REFUSED, audit.REFUSED, username=user.login, reason=refused.refused)
        return refused


def _count(db: Session, profile: SecurityProfile, times: int, now: datetime) -> bool:
    """One more "not now", if fewer than `times` are used: a conditional UPDATE, so two tabs (or
    two portal servers) cannot both spend the last one."""
    db.flush()  # a profile created just now gets its row first
    counted = rows_changed(db, update(SecurityProfile)
                           .where(SecurityProfile.id == profile.id, SecurityProfile.snoozes < times)
                           .values(snoozes=SecurityProfile.snoozes + 1,
                                   first_snoozed_at=func.coalesce(SecurityProfile.first_snoozed_at, now)))
    db.expire(profile)
    return counted == 1
