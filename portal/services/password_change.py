"""Change a password the person knows: proven by a bind as them, written as them.

The current password is checked by binding as the person, and the change is made on that
person's own connection, so the directory applies its history and minimum age. Wrong current
passwords are counted per account (all aliases together) and the portal stops asking the
directory before the directory's own lockout threshold: its throttling never locks anyone out.
A login that matches nobody is counted and answered exactly like a wrong password.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app

from ..adapters.directory import (AccountDisabled, AccountLocked, Directory, DirectoryError, DirectoryUnavailable,
                                  DirectoryUser, OutcomeUnknown, PasswordExpired, PasswordRejected,
                                  WrongPassword)
from ..settings import Settings
from ..store import Store
from . import audit, password_notices
from .crypto import app_secret
from .guards import Guard, guard_key
from .password_rules import PasswordRules, Violation, personal_words

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


@dataclass(frozen=True)
class ChangeResult:
    outcome: Changed
    message: str | None = None
    violations: list[Violation] = field(default_factory=list)


def _settings() -> Settings:
    return current_app.extensions["settings"]


def wrong_password_guard(directory: Directory, user: DirectoryUser | None) -> Guard:
    """At most max_wrong_passwords per window, and always fewer than the directory's threshold."""
    s = _settings().change
    limit = s.max_wrong_passwords
    if user is not None:
        threshold = directory.password_policy(user).lockout_threshold
        if threshold:
            limit = max(1, min(limit, threshold - 1))
    window = timedelta(minutes=s.wrong_password_window_minutes)
    return Guard("change-password", limit, window, window)


def change(store: Store, directory: Directory, *, user: DirectoryUser | None, identifier: str, current: str,
           new: str) -> ChangeResult:
    """Change `user`'s password (None: the login matched nobody). Raises nothing from the directory.

    `identifier` is the name's counting form: it keys the wrong-password limit when `user` is None.
    """
    key = guard_key(app_secret(), directory_id=user.directory_id if user else None, identifier=identifier)
    login = user.login if user else None
    try:
        guard = wrong_password_guard(directory, user)
    except DirectoryUnavailable as error:
        return _finish(store, login, Changed.UNAVAILABLE, error)
    with store.transaction() as db:
        if guard.paused_until(db, key) is not None:
            audit.record(db, EVENT, audit.REFUSED, username=login, reason="throttled")
            return ChangeResult(Changed.THROTTLED)
    if user is None:
        return _wrong(store, guard, key, None)
    outcome, error, violations = _attempt(directory, user, current, new)
    if outcome is Changed.WRONG_PASSWORD:
        return _wrong(store, guard, key, login)
    if violations:
        with store.transaction() as db:
            audit.record(db, EVENT, audit.FAILURE, username=login, reason=violations[0].code,
                         details={"rules": ",".join(v.code for v in violations)})
        return ChangeResult(Changed.REJECTED, violations=violations)
    result = _finish(store, login, outcome, error)
    if outcome is Changed.DONE:
        with store.transaction() as db:
            guard.clear(db, key)
            password_notices.password_changed(db, user)
    return result


Attempt = tuple[Changed, DirectoryError | None, list[Violation]]


def _attempt(directory: Directory, user: DirectoryUser, current: str, new: str) -> Attempt:
    """Prove the current password, then check the rules (only then: they name the person), then change."""
    try:
        directory.verify_password(user, current)
    except WrongPassword:
        return Changed.WRONG_PASSWORD, None, []
    except PasswordExpired:
        pass  # the password is right, only old: a change as the person may still replace it
    except DirectoryError as error:
        return _outcome(error), error, []
    violations = PasswordRules(_settings().passwords).check(new, personal=personal_words(user))
    if violations:
        return Changed.REJECTED, None, violations
    try:
        directory.change_password(user, current, new)
    except WrongPassword:
        return Changed.WRONG_PASSWORD, None, []
    except DirectoryError as error:
        return _outcome(error), error, []
    return Changed.DONE, None, []


def _outcome(error: DirectoryError) -> Changed:
    for kind, outcome in ((PasswordRejected, Changed.REJECTED), (PasswordExpired, Changed.EXPIRED),
                          (AccountLocked, Changed.LOCKED), (AccountDisabled, Changed.REFUSED),
                          (DirectoryUnavailable, Changed.UNAVAILABLE), (OutcomeUnknown, Changed.UNKNOWN)):
        if isinstance(error, kind):
            return outcome
    return Changed.REFUSED


def _wrong(store: Store, guard: Guard, key: str, login: str | None) -> ChangeResult:
    with store.transaction() as db:
        guard.fail(db, key)
        audit.record(db, EVENT, audit.FAILURE, username=login, reason="wrong_password")
    return ChangeResult(Changed.WRONG_PASSWORD)


_AUDIT = {Changed.DONE: audit.SUCCESS, Changed.UNKNOWN: audit.UNKNOWN}


def _finish(store: Store, login: str | None, outcome: Changed, error: DirectoryError | None) -> ChangeResult:
    with store.transaction() as db:
        audit.record(db, EVENT, _AUDIT.get(outcome, audit.FAILURE), username=login,
                     reason=error.code if error else None)
    return ChangeResult(outcome, message=str(error.message) if error else None)
