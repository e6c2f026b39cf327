"""A range of whole days (UTC), the one way reports, the audit log and the CLI express "when"."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ... import clock

DEFAULT_DAYS = 30
MAX_DAYS = 366 * 3


class BadRange(ValueError):
    """The text does not describe a usable range; the message says what is allowed."""


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date  # inclusive

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: the first moment after the range."""
        return datetime.combine(self.last + timedelta(days=1), time.min, UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @classmethod
    def parse(cls, first: str | None, last: str | None) -> DateRange:
        """From YYYY-MM-DD texts; either may be empty (default: the last 30 days up to today)."""
        today = clock.utcnow().date()
        end = _day(last, "to") if last else today
        start = _day(first, "from") if first else end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise BadRange("'from' must not be after 'to'")
        if (end - start).days >= MAX_DAYS:
            raise BadRange(f"a range may span at most {MAX_DAYS} days")
        return cls(start, end)


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadRange(f"'{name}' must be a date such as 2026-03-31 (got {text[:20]!r})") from None
