"""No directory write without its attempt on record: the attempt is committed first, the outcome after.

A trail that can miss a password write is worse than none: no record reads as "nothing happened".
So every write (reset, unlock, change) goes: commit an `attempted` audit row, call the directory,
then record the outcome against that row (success, failure or unknown). When the attempt cannot be
committed (the store is down, full, or refuses the insert) the directory is never called and the
person is told that nothing changed. An attempt without an outcome row means the portal stopped
mid-write: treat it as unknown.

A password that was written, or may have been, ends every portal session of its owner (found by
the directory entry's stable id, not by a name that could be reused); the request that made the
change rotates its own session. When the directory's answer never came, the owner is told by
mail that their password may have changed.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ...adapters.directory import DirectoryUser
from ...store import Store, rows_changed
from ...store.models import WebSession
from ..messaging import password_notices
from ..security import audit
from ..security.audit import DetailValue

log = logging.getLogger(__name__)


class AttemptNotRecorded(Exception):
    """The store could not put the attempt on record, so the directory was not called: nothing changed."""


@dataclass(frozen=True)
class Attempt:
    """A committed `attempted` row; `finish` records how the write ended, pointing back at it."""

    id: int
    event: str
    username: str | None

    def finish(self, db: Session, outcome: str, *, reason: str | None = None,
               details: dict[str, DetailValue] | None = None) -> None:
        audit.record(db, self.event, outcome, username=self.username, reason=reason,
                     details={**(details or {}), "attempt": self.id})


@contextmanager
def before_write(store: Store) -> Iterator[Session]:
    """A transaction for everything up to and including `attempt`, committed before the directory is
    called. Any store failure in it raises AttemptNotRecorded: at that point nothing was written."""
    try:
        with store.transaction() as db:
            yield db
    except SQLAlchemyError as error:
        log.error("the store failed before a directory write; nothing was written: %s", type(error).__name__)
        raise AttemptNotRecorded() from error


@contextmanager
def after_write(store: Store, attempt: Attempt) -> Iterator[Session]:
    """A transaction for the outcome of a write the directory has already answered.

    If the store fails now, the person must still hear the directory's answer (their password did
    change, or did not): the failure is logged with the attempt's id and swallowed. The trail keeps
    the committed attempt without an outcome, which reads as "unknown", and a reset's writing lease
    turns its flow to unknown when it runs out.
    """
    try:
        with store.transaction() as db:
            yield db
    except SQLAlchemyError as error:
        log.error("the store failed after a directory write; its outcome is not on record "
                  "(attempt %s, %s): %s", attempt.id, attempt.event, type(error).__name__)


def attempt(db: Session, event: str, *, username: str | None,
            details: dict[str, DetailValue] | None = None) -> Attempt:
    """Add the `attempted` row (inside `before_write`, so it is committed before the write is sent)."""
    entry = audit.record(db, event, audit.ATTEMPTED, username=username, details=details)
    db.flush()
    return Attempt(entry.id, event, username)


def password_written(db: Session, user: DirectoryUser, *, confirmed: bool) -> int:
    """After a password write that succeeded (`confirmed`) or whose answer never came: end the
    owner's sessions, and tell them when it is unknown. How many sessions were ended."""
    ended = rows_changed(db, delete(WebSession).where(WebSession.directory_id == user.directory_id))
    if not confirmed:
        password_notices.password_may_have_changed(db, user)
    return ended
