"""The portal's notion of "now", in one place so expiry rules can be tested by moving time.

Tests call `travel()` to jump ahead (an ID token's expiry, a re-confirmation due after N days)
instead of sleeping; production code never touches the offset.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; the portal writes them in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def timestamp() -> int:
    return int(time.time() + _offset.total_seconds())


@contextmanager
def travel(delta: timedelta) -> Iterator[None]:
    """Move the portal's clock by `delta` for the duration of the block."""
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous
