"""Reading the audit trail for people: filtered, newest first, a page at a time or all for export.

Read-only on purpose: nothing here (or anywhere in the portal) updates or deletes an audit
event, so what the log says happened cannot be edited away through the portal.

The steps (`known_events`, `page_of`, `export_csv`) take the app's Collaborators and read in a
transaction of their own; the admin page and `audit export` call them alike.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ...store.audit import AuditEvent
from ..container import Collaborators
from .csv_export import Cell, rows_as_csv
from .date_range import DateRange

PAGE_SIZE = 50
EXPORT_HEADER = ("time", "event", "user", "outcome", "reason", "ip", "request_id", "details")


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]   # newest first
    next_id: int | None        # where the next page starts; None on the last page
    events_known: list[str]    # every event name on record, for the filter


@dataclass(frozen=True)
class AuditFilter:
    period: DateRange
    username: str | None = None
    event: str | None = None
    outcome: str | None = None

    def query(self) -> Select[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.at >= self.period.start, AuditEvent.at < self.period.end)
        if self.username:
            query = query.where(func.lower(AuditEvent.username) == self.username.lower())
        if self.event:
            query = query.where(AuditEvent.event == self.event)
        if self.outcome:
            query = query.where(AuditEvent.outcome == self.outcome)
        return query


def known_events(c: Collaborators) -> list[str]:
    with c.store.transaction() as db:
        return event_names(db)


def page_of(c: Collaborators, where: AuditFilter, before_id: int | None = None) -> AuditPage:
    with c.store.transaction() as db:
        return AuditPage(*page(db, where, before_id), event_names(db))


def export_csv(c: Collaborators, where: AuditFilter) -> Iterator[str]:
    """Every matching event as CSV lines, oldest first, read while they are sent."""
    with c.store.transaction() as db:
        yield from rows_as_csv(EXPORT_HEADER, export_rows(db, where))


def page(db: Session, where: AuditFilter, before_id: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, and the id to continue from (None on the last page)."""
    query = where.query().order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    events = list(db.scalars(query))
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return events, events[-1].id if more else None


def export_rows(db: Session, where: AuditFilter) -> Iterator[tuple[Cell, ...]]:
    """Every matching event, oldest first, fetched in chunks so a year of events streams."""
    query = where.query().order_by(AuditEvent.id).execution_options(yield_per=500)
    for event in db.scalars(query):
        yield (event.at, event.event, event.username, event.outcome, event.reason, event.ip, event.request_id,
               _details(event.details))


def event_names(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEvent.event).distinct().order_by(AuditEvent.event)))


def _details(details: dict[str, object] | None) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted((details or {}).items()))
