"""The numbers administrators watch while rolling self-service out, as plain tables.

Every report is a `Table` (a header and rows), so the pages, their CSV downloads and the CLI
show the same numbers. Two sources, both counted in SQL so that a request costs the same at
100 people as at 100,000 (no list of the population is ever built here):

- the standings (store/standings.py, kept by population.refresh and after each registration
  change): coverage, methods in use and who is due to re-confirm, for everybody in scope, or the
  members of one group;
- the audit trail, for the chosen days: resets and changes per day with their outcomes and
  reasons, the most common failure reasons, and accounts whose self-service reset is paused.

Coverage over time is derived from when each person's counted methods were registered (a
method keeps its first registration date when changed), measured against today's population:
the curve shows how today's staff got to where they are, without a nightly snapshot job.

Every table comes a page at a time on its admin page (the long ones, PAGED, with LIMIT/OFFSET in
SQL; the short ones, bounded by days or reasons rather than people, sliced), and whole, streamed row
by row, as CSV (`csv_lines`). The dashboard (dashboard.py) counts its tiles and curves beside them.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Unpack

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from ... import clock
from ...settings import Settings
from ...store.audit import AuditEvent
from ...store.standings import PersonStanding
from ..campaigns import population
from ..container import Collaborators
from ..passwords.change import EVENT as CHANGE_EVENT
from ..proofs.methods import REGISTRY
from ..reset.verification import EVENT_PAUSED
from ..reset.writer import EVENT_PASSWORD as RESET_EVENT
from ..security import audit
from .csv_export import Cell, rows_as_csv
from .date_range import DateRange
from .sql import CodePointOrder, UtcDay

NAMES = ("coverage", "methods", "reconfirm", "activity", "failures", "paused")
FROM_STANDINGS = ("coverage", "methods", "reconfirm")  # empty until the first `reports refresh`
PAGED = ("reconfirm", "activity")  # as long as the population or the days times the reasons
PAGE_SIZE = 50
ACTIONS = {RESET_EVENT: "reset", CHANGE_EVENT: "change"}
TOP_REASONS = 10
STREAM_ROWS = 1000  # rows fetched at a time while a CSV streams
HEADERS = {
    "coverage": ("day", "in_scope", "registered", "percent"),
    "methods": ("method", "people", "percent"),
    "reconfirm": ("username", "name", "email", "confirmed_at", "days_since"),
    "activity": ("day", "action", "outcome", "reason", "count"),
    "failures": ("event", "reason", "count"),
    "paused": ("username", "paused_at", "paused_until"),
}
Rows = Iterator[tuple[Cell, ...]]
Query = Select[Unpack[tuple[Any, ...]]]


@dataclass(frozen=True)
class Paging:
    page: int
    pages: int
    total: int  # rows in the whole table


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    paging: Paging | None = None  # set when `rows` is one page of a longer table


@dataclass(frozen=True)
class ReportsPage:
    tables: dict[str, Table]
    refreshed_at: datetime | None  # when the standings were last refreshed; None: never yet


def tables(c: Collaborators, period: DateRange, group: str | None = None, names: Iterable[str] = NAMES,
           pages: Mapping[str, int] | None = None) -> dict[str, Table]:
    """The reports `names` (KeyError for a name that is none) for `period` and, optionally, the
    members of `group`; a PAGED table holds page `pages[name]` (default 1)."""
    return page(c, period, group, names, pages).tables


def page(c: Collaborators, period: DateRange, group: str | None = None, names: Iterable[str] = NAMES,
         pages: Mapping[str, int] | None = None) -> ReportsPage:
    """`tables` and when the standings they count were last refreshed, read in one transaction."""
    with c.store.transaction() as db:
        found = Reports(db, c.settings, period, group)
        return ReportsPage({name: found.table(name, (pages or {}).get(name, 1)) for name in names},
                           population.last_refresh(db))


def refreshed_at(c: Collaborators) -> datetime | None:
    """When the standings were last refreshed; None: never yet (FROM_STANDINGS count nobody)."""
    with c.store.transaction() as db:
        return population.last_refresh(db)


def coverage_rows(c: Collaborators, period: DateRange, group: str | None = None) -> list[tuple[Cell, ...]]:
    """The whole coverage table (a row per day of the period, never per person), for its curve."""
    with c.store.transaction() as db:
        return list(Reports(db, c.settings, period, group).coverage())


def csv_lines(c: Collaborators, period: DateRange, group: str | None, name: str) -> Iterator[str]:
    """One whole report as CSV lines, read while they are sent (its own transaction, opened at the
    first line). KeyError now, before any line, for a name that is none."""
    header = HEADERS[name]

    def lines() -> Iterator[str]:
        with c.store.transaction() as db:
            yield from rows_as_csv(header, Reports(db, c.settings, period, group).rows(name))
    return lines()


class Reports:
    """Every report for one period and (optionally) one group."""

    def __init__(self, db: Session, settings: Settings, period: DateRange, group: str | None = None) -> None:
        self.db, self.settings = db, settings
        self.period, self.group = period, group
        self.now = clock.utcnow()

    def table(self, name: str, page: int = 1) -> Table:
        """Page `page` of a report (clamped to the pages there are); paging is None when it fits on one."""
        if name not in NAMES:
            raise KeyError(name)
        if name not in PAGED:
            rows = list(self.rows(name))
            paging = _paging(page, len(rows))
            return Table(HEADERS[name], rows[(paging.page - 1) * PAGE_SIZE:][:PAGE_SIZE], _shown(paging))
        total = self.db.scalar(select(func.count()).select_from(self._query(name).subquery())) or 0
        paging = _paging(page, total)
        rows = list(self.rows(name, self._query(name).offset((paging.page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return Table(HEADERS[name], rows, _shown(paging))

    def rows(self, name: str, query: Query | None = None) -> Rows:
        """A report's rows, all of them unless `query` (a PAGED table's query, narrowed) says otherwise."""
        if name in PAGED:
            query = query if query is not None else self._query(name).execution_options(yield_per=STREAM_ROWS)
            return self.reconfirm(query) if name == "reconfirm" else self.activity(query)
        rows: Rows = getattr(self, name)()
        return rows

    def _query(self, name: str) -> Query:
        return self._reconfirm_query() if name == "reconfirm" else self._activity_query()

    # ---- from the standings ----

    def in_scope(self, *where: ColumnElement[bool]) -> int:
        """How many people in scope (of the group) match `where`, counted in SQL."""
        query = select(func.count()).select_from(PersonStanding).where(population.scope(self.group), *where)
        return self.db.scalar(query) or 0

    def coverage(self) -> Rows:
        """Per day: people in scope, people registered by the end of that day, and the share."""
        total = self.in_scope()
        registered = self.in_scope(PersonStanding.registered_day < self.period.first)
        per_day = dict(self.db.execute(
            select(PersonStanding.registered_day, func.count()).where(
                population.scope(self.group), PersonStanding.registered_day >= self.period.first,
                PersonStanding.registered_day <= self.period.last).group_by(PersonStanding.registered_day)).all())
        for day in self.period.days():
            registered += per_day.get(day, 0)
            yield day, total, registered, percent(registered, total)

    def methods(self) -> Rows:
        """How many people in scope have each method that counts for them."""
        kinds = [k for k in REGISTRY if k in self.settings.registration.methods]
        counts = self.db.execute(select(
            func.count(), *(func.coalesce(func.sum(case((population.has_method(k), 1), else_=0)), 0) for k in kinds))
            .select_from(PersonStanding).where(population.scope(self.group))).one()
        total = counts[0]
        for kind, n in zip(kinds, counts[1:], strict=True):
            yield kind, n, percent(n, total)

    def _reconfirm_query(self) -> Query:
        """People with enough methods whose last confirmation is older than reconfirm_days."""
        return (select(PersonStanding.login, PersonStanding.display_name, PersonStanding.email,
                       PersonStanding.confirmed_at)
                .where(population.scope(self.group), population.reconfirm_due(self.settings, self.now))
                .order_by(PersonStanding.login, PersonStanding.directory_id))

    def reconfirm(self, query: Query) -> Rows:
        for login, name, email, confirmed_at in self.db.execute(query):
            at = clock.as_utc(confirmed_at)
            yield login, name, email, at, (self.now - at).days

    # ---- from the audit trail ----

    def _activity_query(self) -> Query:
        """Resets and changes per day, by outcome and reason (an attempt is counted by its outcome)."""
        day, reason = UtcDay(AuditEvent.at), func.coalesce(AuditEvent.reason, "")
        return (select(day, AuditEvent.event, AuditEvent.outcome, reason, func.count())
                .where(*self.audit_filter(), AuditEvent.event.in_(ACTIONS), AuditEvent.outcome != audit.ATTEMPTED)
                .group_by(day, AuditEvent.event, AuditEvent.outcome, reason)
                .order_by(day, CodePointOrder(AuditEvent.event), CodePointOrder(AuditEvent.outcome),
                          CodePointOrder(reason)))

    def activity(self, query: Query) -> Rows:
        for day, event, outcome, reason, n in self.db.execute(query):
            yield day, ACTIONS[event], outcome, reason, n

    def failures(self) -> Rows:
        """The most common reasons anything failed or was refused, across every event."""
        count = func.count().label("n")
        query = (select(AuditEvent.event, AuditEvent.reason, count)
                 .where(*self.audit_filter(), AuditEvent.outcome.in_((audit.FAILURE, audit.REFUSED)))
                 .group_by(AuditEvent.event, AuditEvent.reason).order_by(count.desc(), AuditEvent.event)
                 .limit(TOP_REASONS))
        for row in self.db.execute(query):
            yield tuple(row)

    def paused(self) -> Rows:
        """Accounts whose self-service reset is paused right now (too many failed verifications).

        Not limited to the chosen days: a pause that started before them may still hold."""
        latest: dict[str, tuple[datetime, datetime]] = {}
        since = self.now - timedelta(minutes=self.settings.reset.pause_minutes)
        query = (select(AuditEvent).where(AuditEvent.event == EVENT_PAUSED, AuditEvent.at > since,
                                          *self._group_filter()).order_by(AuditEvent.at))
        for event in self.db.scalars(query):
            at = clock.as_utc(event.at)
            minutes = (event.details or {}).get("minutes", self.settings.reset.pause_minutes)
            latest[event.username or ""] = (at, at + timedelta(minutes=int(minutes)))
        for user, (at, until) in sorted(latest.items()):
            if until > self.now:
                yield user, at, until

    def audit_filter(self) -> list[ColumnElement[bool]]:
        """Audit events in the period, of the group's members when there is a group."""
        return [AuditEvent.at >= self.period.start, AuditEvent.at < self.period.end, *self._group_filter()]

    def _group_filter(self) -> list[ColumnElement[bool]]:
        """Events of the group's members (in scope or not: audit covers everyone), matched by
        lower-cased login in SQL against the standings, never a member list built here. EXISTS
        rather than IN: should the planner misjudge the sizes (statistics not gathered yet), its
        nested loop still probes two indexes per event instead of rescanning the members."""
        if not self.group:
            return []
        member = select(PersonStanding.directory_id).where(
            PersonStanding.login_key == func.lower(AuditEvent.username), population.in_group(self.group))
        return [member.exists()]


def _paging(page: int, total: int) -> Paging:
    pages = max(1, -(-total // PAGE_SIZE))
    return Paging(min(max(page, 1), pages), pages, total)


def _shown(paging: Paging) -> Paging | None:
    """Paging worth showing: only a table longer than one page has pages to move between."""
    return paging if paging.total > PAGE_SIZE else None


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0
