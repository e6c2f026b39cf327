"""Count failures against one account and pause it after too many: the brake behind reset and change.

A guard counts failed attempts (wrong codes, wrong answers, wrong current passwords) per account
and purpose within a window; the failure that reaches the limit pauses the account for that
purpose. Each attempt is counted before it is compared (admit), taken off the count when it
passes (passed) and judged after it fails (failed): parallel attempts can neither compare more
often than the limit nor start more than one pause. The key is a keyed hash of the account's
directory id (so every alias of the account counts together) or, for a name that matches no
usable account, of the typed name: unknown names are paused exactly like real ones, so the
pause tells nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from ... import clock
from ...store import rows_changed
from ...store.flows import AccountGuard
from .crypto import keyed_hash

HASH_PURPOSE = "account-guard"
GUARDS = cast(Table, AccountGuard.__table__)


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

    def admit(self, db: Session, key: str, *, counted: bool = False) -> bool:
        """Count one attempt BEFORE it is compared; False when none may be made (paused, or at the limit).

        One conditional upsert counts it (a new window when the last one is over) and is judged by
        the row it returns, so parallel attempts in any number of processes are admitted at most
        `limit` times a window. The row stays locked until the transaction ends: on PostgreSQL the
        next attempt for the account is counted after this one's outcome is known. `counted`: the
        attempt was counted already (questions counted when shown are answered now); only that no
        pause began since is checked.
        """
        now = clock.utcnow()
        row_key = self._key(key)
        if not counted:
            return db.scalar(self._counted(db, row_key, now)) is not None
        self._open_window(db, row_key, now)
        return rows_changed(db, update(AccountGuard).where(AccountGuard.key == row_key, self._not_paused(now))
                            .values(failures=AccountGuard.failures)) == 1

    def _counted(self, db: Session, row_key: str, now: datetime) -> ReturningInsert[tuple[int]]:
        """The upsert that counts one attempt: the first of a new row or of a new window, or one
        more below the limit; it changes nothing while paused or at the limit."""
        expired = AccountGuard.window_started_at < now - self.window
        # judged by what it returns: psycopg reports no rowcount for an upsert
        return (_insert(db)(GUARDS).values(key=row_key, failures=1, window_started_at=now)
                .on_conflict_do_update(
                    index_elements=[AccountGuard.key],
                    set_={"failures": case((expired, 1), else_=AccountGuard.failures + 1),
                          "window_started_at": case((expired, now), else_=AccountGuard.window_started_at)},
                    where=and_(self._not_paused(now), or_(expired, AccountGuard.failures < self.limit)))
                .returning(GUARDS.c.failures))

    def failed(self, db: Session, key: str) -> datetime | None:
        """An admitted attempt failed, or one was refused: the end of the pause when this one started it.

        The pause is one conditional UPDATE too (limit reached, not paused yet), so of any number
        of parallel failures exactly one starts it: only that one may end flows and tell the person.
        """
        now = clock.utcnow()
        until = now + self.pause
        paused = rows_changed(db, update(AccountGuard)
                              .where(AccountGuard.key == self._key(key), AccountGuard.failures >= self.limit,
                                     self._not_paused(now))
                              .values(failures=0, window_started_at=now, paused_until=until))
        return until if paused == 1 else None

    def passed(self, db: Session, key: str) -> None:
        """An admitted attempt that did not fail is no failure: it comes off the count."""
        db.execute(update(AccountGuard).where(AccountGuard.key == self._key(key), AccountGuard.failures > 0)
                   .values(failures=AccountGuard.failures - 1))

    def clear(self, db: Session, key: str) -> None:
        """Forget failures after a success (the pause, if any, stays)."""
        db.execute(update(AccountGuard).where(AccountGuard.key == self._key(key)).values(failures=0))

    @staticmethod
    def _not_paused(now: datetime) -> ColumnElement[bool]:
        return or_(AccountGuard.paused_until.is_(None), AccountGuard.paused_until <= now)

    def _open_window(self, db: Session, row_key: str, now: datetime) -> None:
        """The guard's row exists, its count starting afresh when its window is over: one upsert
        (a parallel first attempt that inserted it first just makes this one the update)."""
        db.execute(_insert(db)(AccountGuard).values(key=row_key, failures=0, window_started_at=now)
                   .on_conflict_do_update(index_elements=[AccountGuard.key],
                                          set_={"failures": 0, "window_started_at": now},
                                          where=AccountGuard.window_started_at < now - self.window))


def _insert(db: Session) -> Callable[[type[AccountGuard] | Table], postgresql.Insert | sqlite.Insert]:
    """The dialect's INSERT, the one with ON CONFLICT."""
    return postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
