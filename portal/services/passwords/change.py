"""Change a password the person knows: proven by a bind as them, written as them.

The current password is checked by binding as the person, and the change is made on that
person's own connection, so the directory applies its history and minimum age. Wrong current
passwords are counted per account (all aliases together), each try before the directory is
asked, and the portal stops asking before the directory's own lockout threshold, however many
tries arrive at once: its throttling never locks anyone out.
A login that matches nobody is counted and answered exactly like a wrong password.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from ...adapters.directory import (
    AccountDisabled,
    AccountLocked,
    DirectoryError,
    DirectoryUnavailable,
    DirectoryUser,
    OutcomeUnknown,
    PasswordExpired,
    PasswordRejected,
    WrongPassword,
)
from ...store import Store
from ..container import Collaborators
from ..messaging import languages, password_notices, webhooks
from ..reset.identifiers import counting_form, parse_identifier
from ..security import audit
from ..security.crypto import app_secret
from ..security.guards import Guard, guard_key
from . import writes
from .rules import Violation, personal_words

EVENT = "password.change"


class Changed(enum.Enum):
    DONE = "done"
    WRONG_PASSWORD = "wrong_password"  # or no such login: the same answer
    THROTTLED = "throttled"            # too many wrong passwords for this account lately
    REJECTED = "rejected"              # the rules or the directory refused the new password
    EXPIRED = "expired"                # only a reset can replace this password
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"
    REFUSED = "refused"                # disabled, protected, or not allowed here


# after these the new password may be the account's: its sessions end, the browser's rotates
PASSWORD_MAY_HAVE_CHANGED = (Changed.DONE, Changed.UNKNOWN)


@dataclass(frozen=True)
class ChangeResult:
    outcome: Changed
    message: str | None = None
    violations: list[Violation] = field(default_factory=list)


@dataclass(frozen=True)
class SignedInAccount:
    """The person signed in at the provider: their username, and the directory entry that carries
    it (None: no one entry does; web/account.py looks it up once per request)."""

    username: str
    user: DirectoryUser | None


def wrong_password_guard(c: Collaborators, user: DirectoryUser | None) -> Guard:
    """At most max_wrong_passwords per window, and always fewer than the directory's threshold."""
    s = c.settings.change
    limit = s.max_wrong_passwords
    if user is not None:
        threshold = c.directory.password_policy(user).lockout_threshold
        if threshold:
            limit = max(1, min(limit, threshold - 1))
    window = timedelta(minutes=s.wrong_password_window_minutes)
    return Guard("change-password", limit, window, window)


def change_password(c: Collaborators, *, signed_in: SignedInAccount | None, login: str | None, current: str,
                    new: str) -> ChangeResult:
    """/change's step: the account, then `change`. Signed in, the entry that carries the provider's
    username, never one the name was folded into; signed out, the directory's match of the typed
    `login` (none: answered as a wrong password). The name's counting form keys the wrong-password
    limit when no account is found. Raises InvalidIdentifier, or DirectoryUnavailable from the lookup.
    """
    if signed_in is not None:
        return change(c, user=signed_in.user, identifier=counting_form(signed_in.username), current=current,
                      new=new)
    identifier = parse_identifier(login)
    return change(c, user=c.directory.find_user(identifier.typed), identifier=identifier.counted,
                  current=current, new=new)


def change(c: Collaborators, *, user: DirectoryUser | None, identifier: str, current: str,
           new: str) -> ChangeResult:
    """Change `user`'s password (None: the login matched nobody). Raises nothing from the directory;
    AttemptNotRecorded when the store failed before the write (nothing changed).

    `identifier` is the name's counting form: it keys the wrong-password limit when `user` is None.
    """
    key = guard_key(app_secret(), directory_id=user.directory_id if user else None, identifier=identifier)
    login = user.login if user else None
    try:
        guard = wrong_password_guard(c, user)
    except DirectoryUnavailable as error:
        return _finish(c.store, login, Changed.UNAVAILABLE, error)
    with writes.before_write(c.store) as db:
        if not guard.admit(db, key):  # counted before the directory compares: parallel tries stay under its lockout
            guard.failed(db, key)
            audit.record(db, EVENT, audit.REFUSED, username=login, reason="throttled")
            return ChangeResult(Changed.THROTTLED)
    if user is None:
        return _wrong(c.store, guard, key, None)
    proven, refusal = _verify(c, user, current)
    if proven is Changed.WRONG_PASSWORD:
        return _wrong(c.store, guard, key, login)
    if refusal is not None:
        with c.store.transaction() as db:
            guard.passed(db, key)  # not a wrong password: the try comes off the count
        return _finish(c.store, login, proven, refusal)
    return _write(c, guard, key, user, current, new)


def _write(c: Collaborators, guard: Guard, key: str, user: DirectoryUser, current: str, new: str) -> ChangeResult:
    """The rules, then the attempt on record, then the change as the person, then its outcome."""
    violations = c.password_rules.check(new, personal=personal_words(user))
    with writes.before_write(c.store) as db:
        if violations:
            guard.passed(db, key)  # the current password was right: the try comes off the count
            audit.record(db, EVENT, audit.FAILURE, username=user.login, reason=violations[0].code,
                         details={"rules": ",".join(v.code for v in violations)})
            return ChangeResult(Changed.REJECTED, violations=violations)
        attempt = writes.attempt(db, EVENT, username=user.login)
    outcome, error = _change(c, user, current, new)
    with writes.after_write(c.store, attempt) as db:
        attempt.finish(db, _audit_outcome(outcome), reason=_reason(outcome, error))
        _after_change(db, guard, key, user, outcome)
        if outcome is Changed.DONE:
            webhooks.emit(db, c.outbox, webhooks.PASSWORD_CHANGED, user)
    return ChangeResult(outcome, message=str(error.message) if error else None)


def _after_change(db: Session, guard: Guard, key: str, user: DirectoryUser, outcome: Changed) -> None:
    """What the directory's answer means here: a wrong password counts, a new one ends the sessions."""
    if outcome is Changed.WRONG_PASSWORD:
        guard.failed(db, key)
    elif outcome is Changed.DONE:
        guard.clear(db, key)
        languages.remember(db, user)
        password_notices.password_changed(db, user)
    else:
        guard.passed(db, key)  # refused for another reason: the try comes off the count
    if outcome in PASSWORD_MAY_HAVE_CHANGED:
        writes.password_written(db, user, confirmed=outcome is Changed.DONE)


Answer = tuple[Changed, DirectoryError | None]


def _verify(c: Collaborators, user: DirectoryUser, current: str) -> Answer:
    """Prove the current password (before the rules: they name the person). DONE: it is right."""
    try:
        c.directory.verify_password(user, current)
    except WrongPassword:
        return Changed.WRONG_PASSWORD, None
    except PasswordExpired:
        pass  # the password is right, only old: a change as the person may still replace it
    except DirectoryError as error:
        return _outcome(error), error
    return Changed.DONE, None


def _change(c: Collaborators, user: DirectoryUser, current: str, new: str) -> Answer:
    try:
        c.directory.change_password(user, current, new)
    except WrongPassword:
        return Changed.WRONG_PASSWORD, None
    except DirectoryError as error:
        return _outcome(error), error
    return Changed.DONE, None


def _outcome(error: DirectoryError) -> Changed:
    for kind, outcome in ((PasswordRejected, Changed.REJECTED), (PasswordExpired, Changed.EXPIRED),
                          (AccountLocked, Changed.LOCKED), (AccountDisabled, Changed.REFUSED),
                          (DirectoryUnavailable, Changed.UNAVAILABLE), (OutcomeUnknown, Changed.UNKNOWN)):
        if isinstance(error, kind):
            return outcome
    return Changed.REFUSED


def _wrong(store: Store, guard: Guard, key: str, login: str | None) -> ChangeResult:
    with writes.before_write(store) as db:
        guard.failed(db, key)
        audit.record(db, EVENT, audit.FAILURE, username=login, reason="wrong_password")
    return ChangeResult(Changed.WRONG_PASSWORD)


def _reason(outcome: Changed, error: DirectoryError | None) -> str | None:
    """The audit reason: the directory's code, or "wrong_password" (the one refusal without an error)."""
    if error is not None:
        return error.code
    return None if outcome is Changed.DONE else outcome.value


def _audit_outcome(outcome: Changed) -> str:
    return {Changed.DONE: audit.SUCCESS, Changed.UNKNOWN: audit.UNKNOWN}.get(outcome, audit.FAILURE)


def _finish(store: Store, login: str | None, outcome: Changed, error: DirectoryError) -> ChangeResult:
    """An answer before anything was written (the directory refused or could not be reached)."""
    with writes.before_write(store) as db:
        audit.record(db, EVENT, _audit_outcome(outcome), username=login, reason=error.code)
    return ChangeResult(outcome, message=str(error.message))
