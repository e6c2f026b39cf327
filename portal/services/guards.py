"""Count failures against one account and pause it after too many: the brake behind reset and change.

A guard counts failed attempts (wrong codes, wrong answers, wrong current passwords) per account
and purpose within a window; the attempt that reaches the limit pauses the account for that
purpose. The key is a keyed hash of the account's directory id (so every alias of the account
counts together) or, for a name that matches no usable account, of the typed name: unknown
names are paused exactly like real ones, so the pause tells nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock
from ..store.flows import AccountGuard
from .crypto import keyed_hash

HASH_PURPOSE = "account-guard"


def guard_key(secret_key: str, *, directory_id: str | None, identifier: str) -> str:
    """What limits count against: the account when one was found, else the name as counted
    (reset.identifiers.counting_form: case and look-alike variants together)."""
    if directory_id is not None:
        return keyed_hash(secret_key, HASH_PURPOSE, "account", directory_id)
    return keyed_hash(secret_key, HASH_PURPOSE, "name", identifier)


@dataclass(frozen=True)
class Guard:
    purpose: str
    limit: int
    window: timedelta
    pause: timedelta

    def _key(self, key: str) -> str:
        return f"{self.purpose}:{key}"

    def paused_until(self, db: Session, key: str) -> datetime | None:
        """When the pause of this account ends, or None when it is not paused."""
        until = db.scalar(select(AccountGuard.paused_until).where(AccountGuard.key == self._key(key)))
        if until is None or clock.as_utc(until) <= clock.utcnow():
            return None
        return clock.as_utc(until)

    def fail(self, db: Session, key: str) -> datetime | None:
        """Count one failure; the end of the pause when this one started it, else None.

        Atomic increments, so concurrent failures in several processes are all counted.
        """
        now = clock.utcnow()
        row_key = self._key(key)
        self._ensure(db, row_key, now)
        db.execute(update(AccountGuard)
                   .where(AccountGuard.key == row_key, AccountGuard.window_started_at < now - self.window)
                   .values(failures=0, window_started_at=now))
        db.execute(update(AccountGuard).where(AccountGuard.key == row_key)
                   .values(failures=AccountGuard.failures + 1))
        failures = db.scalar(select(AccountGuard.failures).where(AccountGuard.key == row_key)) or 0
        if failures < self.limit:
            return None
        until = now + self.pause
        db.execute(update(AccountGuard).where(AccountGuard.key == row_key)
                   .values(failures=0, window_started_at=now, paused_until=until))
        return until

    def clear(self, db: Session, key: str) -> None:
        """Forget failures after a success (the pause, if any, stays)."""
        db.execute(update(AccountGuard).where(AccountGuard.key == self._key(key)).values(failures=0))

    @staticmethod
    def _ensure(db: Session, row_key: str, now: datetime) -> None:
        if db.get(AccountGuard, row_key) is not None:
            return
        try:
            with db.begin_nested():
                db.add(AccountGuard(key=row_key, failures=0, window_started_at=now))
        except IntegrityError:  # another process created it first: fine, it exists
            pass
