"""Record security events for people, IT and reports: what happened, to whom, from where, how it ended.

Every flow writes here (registration, reset, change, campaigns), so the shape is general: an
event name, the canonical user name, the outcome, a short machine-readable reason and a small
JSON `details`. Secrets never belong in it; `record` refuses detail names that could carry one,
so a careless caller fails in its tests instead of leaking a code into the trail.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy.orm import Session

from ... import clock
from ...store.audit import AuditEvent

log = logging.getLogger(__name__)

SUCCESS = "success"
FAILURE = "failure"
REFUSED = "refused"  # a request the policy turned down (rate limit, origin not allowed, ...)
UNKNOWN = "unknown"  # the outcome could not be confirmed (e.g. directory timed out after a write)
ATTEMPTED = "attempted"  # a directory write about to be sent; its outcome follows (services/passwords/writes.py)
OUTCOMES = (SUCCESS, FAILURE, REFUSED, UNKNOWN, ATTEMPTED)

FORBIDDEN_DETAIL = re.compile(r"code|answer|secret|password|token|otp", re.IGNORECASE)
MAX_DETAILS_BYTES = 2048
DetailValue = str | int | float | bool | None


def record(db: Session, event: str, outcome: str, *, username: str | None = None, reason: str | None = None,
           details: dict[str, DetailValue] | None = None, ip: str | None = None) -> AuditEvent:
    """Add one event to `db` (the caller commits it with the change it describes).

    The IP and request id come from the current request unless given (the CLI has neither).
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    details = dict(details or {})
    _check_details(details)
    in_request = has_request_context()
    entry = AuditEvent(
        at=clock.utcnow(), event=event, username=username, outcome=outcome, reason=reason,
        ip=ip if ip is not None else (request.remote_addr if in_request else None),
        request_id=g.get("request_id") if in_request else None, details=details,
    )
    db.add(entry)
    log.info("audit %s %s", event, outcome, extra={"audit_event": event, "outcome": outcome,
                                                     "reason": reason, "username": username})
    return entry


def _check_details(details: dict[str, Any]) -> None:
    for name, value in details.items():
        if FORBIDDEN_DETAIL.search(name):
            raise ValueError(f"audit detail {name!r} could carry a secret; record its absence, not its value")
        if not isinstance(value, (str, int, float, bool, type(None))):
            raise ValueError(f"audit detail {name!r} must be a plain value")
    if len(json.dumps(details, default=str)) > MAX_DETAILS_BYTES:
        raise ValueError("audit details are limited to 2 KB")
