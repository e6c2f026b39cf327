"""The numbers administrators watch while rolling self-service out, as plain tables.

Every report is a `Table` (a header and rows), so the pages, their CSV downloads and the CLI
show the same numbers. Two sources:

- the directory and the store, read once (population.py): coverage, methods in use and who is
  due to re-confirm, for everybody in scope, or the members of one group;
- the audit trail, for the chosen days: resets and changes per day with their outcomes and
  reasons, the most common failure reasons, and accounts whose self-service reset is paused.

Coverage over time is derived from when each person's counted methods were registered (a
method keeps its first registration date when changed), measured against today's population:
the curve shows how today's staff got to where they are, without a nightly snapshot job.

`tables` is the step the admin pages and the CLI call: it reads in a transaction of its own.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.directory import Directory
from ...adapters.directory import DirectoryUnavailable as DirectoryUnavailable  # raised by `tables`
from ...settings import Settings
from ...store.audit import AuditEvent
from ...store.security_info import SecurityProfile
from ..campaigns.population import Standing, standings
from ..container import Collaborators
from ..passwords.change import EVENT as CHANGE_EVENT
from ..proofs.methods import REGISTRY, Registers
from ..reset.verification import EVENT_PAUSED
from ..reset.writer import EVENT_PASSWORD as RESET_EVENT
from ..security import audit
from .csv_export import Cell
from .date_range import DateRange

NAMES = ("coverage", "methods", "reconfirm", "activity", "failures", "paused")
ACTIONS = {RESET_EVENT: "reset", CHANGE_EVENT: "change"}
TOP_REASONS = 10
SINCE_ALWAYS = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def tables(c: Collaborators, period: DateRange, group: str | None = None,
           names: Iterable[str] = NAMES) -> dict[str, Table]:
    """The reports `names` (KeyError for a name that is none) for `period` and, optionally, the
    members of `group`. Raises DirectoryUnavailable: the reports count the people it holds."""
    with c.store.transaction() as db:
        found = Reports(db, c.directory, c.settings, period, group)
        return {name: found.table(name) for name in names}


class Reports:
    """Every report for one period and (optionally) one group; the people in scope are read once."""

    def __init__(self, db: Session, directory: Directory, settings: Settings, period: DateRange,
                 group: str | None = None) -> None:
        self.db, self.directory, self.settings = db, directory, settings
        self.period, self.group = period, group

    def table(self, name: str) -> Table:
        if name not in NAMES:
            raise KeyError(name)
        table: Table = getattr(self, name)()
        return table

    # ---- from the directory and the store ----

    @cached_property
    def people(self) -> list[Standing]:
        return standings(self.db, self.directory, self.settings, self.group)

    def coverage(self) -> Table:
        """Per day: people in scope, people registered by the end of that day, and the share."""
        since = [self._registered_since(s) for s in self.people]
        total = len(self.people)
        rows: list[tuple[Cell, ...]] = []
        for day in self.period.days():
            end = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
            registered = sum(1 for moment in since if moment is not None and moment < end)
            rows.append((day, total, registered, _percent(registered, total)))
        return Table(("day", "in_scope", "registered", "percent"), rows)

    def methods(self) -> Table:
        """How many people in scope have each method that counts for them."""
        total = len(self.people)
        counts = Counter(kind for s in self.people for kind in s.policy.counted(s.info))
        kinds = [k for k in REGISTRY if k in self.settings.registration.methods]
        return Table(("method", "people", "percent"), [(k, counts[k], _percent(counts[k], total)) for k in kinds])

    def reconfirm(self) -> Table:
        """People with enough methods whose last confirmation is older than reconfirm_days."""
        now = clock.utcnow()
        due = sorted((s for s in self.people if s.reconfirm_due), key=lambda s: s.user.login)
        return Table(("username", "name", "email", "confirmed_at", "days_since"),
                     [(s.user.login, s.user.display_name, s.user.email, s.status.confirmed_at,
                       (now - s.status.confirmed_at).days if s.status.confirmed_at else None) for s in due])

    @staticmethod
    def _registered_since(standing: Standing) -> datetime | None:
        """When the person first had as many counted methods as they need (None: not registered)."""
        if not standing.registered:
            return None
        moments = sorted(_method_since(standing.profile, kind) for kind in standing.policy.counted(standing.info))
        return moments[standing.policy.required - 1] if len(moments) >= standing.policy.required else None

    # ---- from the audit trail ----

    def activity(self) -> Table:
        """Resets and changes per day, by outcome and reason (an attempt is counted by its outcome)."""
        query = select(AuditEvent.at, AuditEvent.event, AuditEvent.outcome, AuditEvent.reason).where(
            *self._audit_filter(), AuditEvent.event.in_(ACTIONS), AuditEvent.outcome != audit.ATTEMPTED)
        counts = Counter((clock.as_utc(at).date(), ACTIONS[event], outcome, reason or "")
                         for at, event, outcome, reason in self.db.execute(query))
        return Table(("day", "action", "outcome", "reason", "count"),
                     [(*key, n) for key, n in sorted(counts.items())])

    def failures(self) -> Table:
        """The most common reasons anything failed or was refused, across every event."""
        count = func.count().label("n")
        query = (select(AuditEvent.event, AuditEvent.reason, count)
                 .where(*self._audit_filter(), AuditEvent.outcome.in_((audit.FAILURE, audit.REFUSED)))
                 .group_by(AuditEvent.event, AuditEvent.reason).order_by(count.desc(), AuditEvent.event)
                 .limit(TOP_REASONS))
        return Table(("event", "reason", "count"), [tuple(row) for row in self.db.execute(query)])

    def paused(self) -> Table:
        """Accounts whose self-service reset is paused right now (too many failed verifications).

        Not limited to the chosen days: a pause that started before them may still hold."""
        now = clock.utcnow()
        latest: dict[str, tuple[datetime, datetime]] = {}
        since = now - timedelta(minutes=self.settings.reset.pause_minutes)
        query = (select(AuditEvent).where(AuditEvent.event == EVENT_PAUSED, AuditEvent.at > since,
                                          *self._group_filter()).order_by(AuditEvent.at))
        for event in self.db.scalars(query):
            at = clock.as_utc(event.at)
            minutes = (event.details or {}).get("minutes", self.settings.reset.pause_minutes)
            latest[event.username or ""] = (at, at + timedelta(minutes=int(minutes)))
        return Table(("username", "paused_at", "paused_until"),
                     [(user, at, until) for user, (at, until) in sorted(latest.items()) if until > now])

    def _audit_filter(self) -> list[ColumnElement[bool]]:
        return [AuditEvent.at >= self.period.start, AuditEvent.at < self.period.end, *self._group_filter()]

    def _group_filter(self) -> list[ColumnElement[bool]]:
        if not self.group:
            return []
        logins = self._group_logins
        return [or_(*(func.lower(AuditEvent.username).in_(logins[i:i + 500]) for i in range(0, len(logins), 500)))]

    @cached_property
    def _group_logins(self) -> list[str]:
        """Lower-cased logins of the group's members (in scope or not: audit covers everyone)."""
        group = self.group or ""
        return sorted({u.login.lower() for u in self.directory.people() if u.in_group(group)}) or [""]


def _method_since(profile: SecurityProfile | None, kind: str) -> datetime:
    """When a counted method was first registered; a method only the directory holds (no row
    here) has been there as long as the portal can tell."""
    if profile is None:
        return SINCE_ALWAYS
    if REGISTRY[kind].registers is Registers.ANSWERS:
        return max((clock.as_utc(a.created_at) for a in profile.answers), default=SINCE_ALWAYS)
    own = next((m for m in profile.methods if m.kind == kind), None)
    return clock.as_utc(own.created_at) if own else SINCE_ALWAYS


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0
