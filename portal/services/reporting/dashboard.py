"""The reports' first screen: how the rollout is going, at a glance.

A handful of numbers (tiles), three curves per day over the chosen days and the most common
failure reasons; each tile names the detailed table (reports.py) that lists what it counts, and
the days that table should show, so the number and the table agree. Everything is counted in
SQL, a few aggregate queries whatever the population (the page is measured at 100,000 people).

Tiles about activity count the WEEK that ends on the period's last day (today by default): "this
week" is what IT asks about on a Monday; the curves cover the whole period.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, case, func, select

from ...store.audit import AuditEvent
from ...store.standings import PersonStanding
from ..campaigns import population
from ..container import Collaborators
from ..passwords.change import EVENT as CHANGE_EVENT
from ..reset.writer import EVENT_PASSWORD as RESET_EVENT
from ..security import audit
from .csv_export import Cell
from .date_range import DateRange
from .reports import Reports, percent
from .sql import UtcDay

WEEK = 7
TOP_REASONS = 5
SERIES = ("registrations", "resets", "changes")


@dataclass(frozen=True)
class Tile:
    key: str                 # what it counts; the page words it (translated there)
    value: int
    table: str               # the detailed report that lists it
    period: DateRange        # the days that table should show
    percent: float | None = None


@dataclass(frozen=True)
class Dashboard:
    tiles: list[Tile]
    week: DateRange
    series: dict[str, list[tuple[date, int]]]   # SERIES name -> (day, count) for every day of the period
    reasons: list[tuple[Cell, ...]]             # (event, reason, count), most common first
    refreshed_at: datetime | None               # standings' last refresh; None: nobody counted yet


def dashboard(c: Collaborators, period: DateRange, group: str | None = None) -> Dashboard:
    """The first screen for `period` and, optionally, the members of `group`, in one transaction."""
    week = DateRange(max(period.first, period.last - timedelta(days=WEEK - 1)), period.last)
    with c.store.transaction() as db:
        over_period, over_week = Reports(db, c.settings, period, group), Reports(db, c.settings, week, group)
        return Dashboard(_tiles(over_period, over_week), week, _series(over_period),
                         list(over_period.failures())[:TOP_REASONS], population.last_refresh(db))


def _tiles(over_period: Reports, over_week: Reports) -> list[Tile]:
    period, week = over_period.period, over_week.period
    in_scope, registered, due = _people_counts(over_period)
    resets, changes, failed = _week_counts(over_week)
    return [
        Tile("in_scope", in_scope, "coverage", period),
        Tile("registered", registered, "coverage", period, percent(registered, in_scope)),
        Tile("reconfirm", due, "reconfirm", period),
        Tile("resets", resets, "activity", week),
        Tile("changes", changes, "activity", week),
        Tile("failures", failed, "failures", week),
        Tile("paused", sum(1 for _row in over_period.paused()), "paused", period),
    ]


def _people_counts(reports: Reports) -> tuple[int, int, int]:
    """People in scope, how many are registered, how many are due to re-confirm: one pass, in SQL."""
    def how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
    row = reports.db.execute(
        select(func.count(), how_many(PersonStanding.registered.is_(True)),
               how_many(population.reconfirm_due(reports.settings, reports.now)))
        .select_from(PersonStanding).where(population.scope(reports.group))).one()
    return int(row[0]), int(row[1]), int(row[2])


def _week_counts(over_week: Reports) -> tuple[int, int, int]:
    """Successful resets and changes of the week, and everything that failed or was refused in it
    (what the failures table counts), in two grouped queries."""
    successes = dict(over_week.db.execute(
        select(AuditEvent.event, func.count())
        .where(*over_week.audit_filter(), AuditEvent.event.in_((RESET_EVENT, CHANGE_EVENT)),
               AuditEvent.outcome == audit.SUCCESS)
        .group_by(AuditEvent.event)).all())
    failed = over_week.db.scalar(select(func.count()).select_from(AuditEvent).where(
        *over_week.audit_filter(), AuditEvent.outcome.in_((audit.FAILURE, audit.REFUSED)))) or 0
    return successes.get(RESET_EVENT, 0), successes.get(CHANGE_EVENT, 0), failed


def _series(reports: Reports) -> dict[str, list[tuple[date, int]]]:
    """Per day of the period: people who became registered, successful resets, successful changes."""
    period, day = reports.period, UtcDay(AuditEvent.at)
    registered = dict(reports.db.execute(
        select(PersonStanding.registered_day, func.count()).where(
            population.scope(reports.group), PersonStanding.registered_day >= period.first,
            PersonStanding.registered_day <= period.last).group_by(PersonStanding.registered_day)).all())
    done: dict[tuple[date, str], int] = {
        (at, event): n for at, event, n in reports.db.execute(
            select(day, AuditEvent.event, func.count())
            .where(*reports.audit_filter(), AuditEvent.event.in_((RESET_EVENT, CHANGE_EVENT)),
                   AuditEvent.outcome == audit.SUCCESS)
            .group_by(day, AuditEvent.event))}
    days = period.days()
    return {"registrations": [(d, registered.get(d, 0)) for d in days],
            "resets": [(d, done.get((d, RESET_EVENT), 0)) for d in days],
            "changes": [(d, done.get((d, CHANGE_EVENT), 0)) for d in days]}

