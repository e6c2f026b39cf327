"""Signed webhooks: tell other systems (a SIEM, a ticket system, an HR tool) what happened, as typed JSON.

They replace shell hooks, whose arguments had to be escaped (and often were not): an event is a
JSON document, posted to every `[[webhooks]]` endpoint that asked for its type, signed the
Standard Webhooks way (adapters/webhooks). `emit` is called where the audit trail records the same
moment, in the same transaction, after the directory confirmed the write, so an event is queued
exactly when its outcome is on record and never for a write that did not happen; the outbox
delivers it (retries with back-off, once per endpoint and event id).

A body names the person (directory username and the entry's stable id) and what happened, never
a password, code, token or answer: `emit` refuses data keys that could carry one, as audit does.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.directory.model import DirectoryUser
from ...settings.webhooks import EVENTS, WebhookEndpoint
from ...store.outbox import OutboxMessage
from ..container import Collaborators
from ..security.audit import FORBIDDEN_DETAIL
from .outbox import WEBHOOK, Outbox

PASSWORD_RESET, PASSWORD_CHANGED, ACCOUNT_UNLOCKED, REGISTRATION_CHANGED, RESET_PAUSED, DEADLINE_PASSED = EVENTS
PAGE_SIZE = 50
Data = str | int | bool | None


def emit(db: Session, outbox: Outbox, event: str, user: DirectoryUser, *, event_id: str | None = None,
         **data: Data) -> int:
    """Queue `event` about `user` for every endpoint that wants it (in the caller's transaction);
    how many endpoints. `event_id` makes an event that may be emitted twice (the same deadline
    seen by two servers) one event; by default each call is a new one."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    leaking = [name for name in data if FORBIDDEN_DETAIL.search(name)]
    if leaking:
        raise ValueError(f"webhook data {leaking[0]!r} could carry a secret; send its absence, not its value")
    endpoints = _wanting(outbox, event)
    if not endpoints:
        return 0
    message_id = event_id or f"msg_{uuid.uuid4().hex}"
    body = json.dumps({"type": event, "timestamp": clock.utcnow().isoformat().replace("+00:00", "Z"),
                       "data": {"user": user.login, "user_id": user.directory_id, **data}}, separators=(",", ":"))
    return sum(outbox.enqueue_webhook(db, endpoint.url, event=event, message_id=message_id, body=body)
               for endpoint in endpoints)


def wanted(outbox: Outbox, event: str) -> bool:
    """Whether any endpoint asked for `event` (so a caller can skip work only an event needs)."""
    return bool(_wanting(outbox, event))


def _wanting(outbox: Outbox, event: str) -> list[WebhookEndpoint]:
    return [endpoint for endpoint in outbox.webhooks.values() if endpoint.wants(event)]


def stable_id(*parts: str) -> str:
    """An event id that is the same wherever and however often the same moment is seen."""
    return "msg_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Delivery:
    """One row of the delivery log."""

    id: int
    event: str
    endpoint: str
    status: str            # pending (also while retrying), sent or failed (gave up)
    attempts: int
    last_error: str | None
    queued_at: datetime


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]   # newest first
    next_id: int | None          # where the next page starts; None on the last page


def delivery_log(c: Collaborators, before_id: int | None = None) -> DeliveryPage:
    """One page of webhook deliveries, newest first (for /admin/webhooks)."""
    query = (select(OutboxMessage).where(OutboxMessage.channel == WEBHOOK)
             .order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE + 1))
    if before_id is not None:
        query = query.where(OutboxMessage.id < before_id)
    with c.store.transaction() as db:
        rows = list(db.scalars(query))
    more = len(rows) > PAGE_SIZE
    shown = [_delivery(row) for row in rows[:PAGE_SIZE]]
    return DeliveryPage(shown, shown[-1].id if more else None)


def _delivery(row: OutboxMessage) -> Delivery:
    return Delivery(row.id, row.purpose, row.endpoint or "", row.status, row.attempts, row.last_error,
                    clock.as_utc(row.created_at))
