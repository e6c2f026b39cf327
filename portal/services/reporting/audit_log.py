"""Reading the audit trail for people: filtered, newest first, a page at a time or all for export.

Read-only on purpose: nothing here (or anywhere in the portal) updates or deletes an audit
event, so what the log says happened cannot be edited away through the portal.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ...store.audit import AuditEvent
from .date_range import DateRange

PAGE_SIZE = 50
EXPORT_HEADER = ("time", "event", "user", "outcome", "reason", "ip", "request_id", "details")


@dataclass(frozen=True)
class AuditFilter:
    period: DateRange
    username: str | None = None
    event: str | None = None
    outcome: str | None = None

    def query(self) -> Select[tuple[AuditEvent]]:
        query = select(AuditEvent).where(AuditEvent.at >= self.period.start, AuditEvent.at < self.period.end)
        if self.username:
            query = query.where(func.lower(AuditEvent.username) == self.username.lower())
        if self.event:
            query = query.where(AuditEvent.event == self.event)
        if self.outcome:
            query = query.where(AuditEvent.outcome == self.outcome)
        return query


def page(db: Session, where: AuditFilter, before_id: int | None = None) -> tuple[list[AuditEvent], int | None]:
    """One page, newest first, and the id to continue from (None on the last page)."""
    query = where.query().order_by(AuditEvent.id.desc()).limit(PAGE_SIZE + 1)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    events = list(db.scalars(query))
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    return events, events[-1].id if more else None


def export_rows(db: Session, where: AuditFilter) -> Iterator[tuple[object, ...]]:
    """Every matching event, oldest first, fetched in chunks so a year of events streams."""
    query = where.query().order_by(AuditEvent.id).execution_options(yield_per=500)
    for event in db.scalars(query):
        yield (event.at, event.event, event.username, event.outcome, event.reason, event.ip, event.request_id,
               _details(event.details))


def event_names(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEvent.event).distinct().order_by(AuditEvent.event)))


def _details(details: dict[str, object] | None) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted((details or {}).items()))
