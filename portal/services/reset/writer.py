"""Write the new password (or just unlock) for a verified flow, once per account, and say truly how it went.

The flow first takes the account's single writing slot and puts the attempt on record, in one
committed transaction (writes.py), so a parallel reset in any process is refused, and a
store that cannot record the attempt stops the write, before the directory is even called. Only the
directory's answer decides what the person is told: success only when it confirmed the write,
"unknown" (and audited as unknown) when it went silent after the write was sent. A password the
rules or the directory refuse leaves the flow verified, so the person simply tries another.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ...adapters.directory import (
    DirectoryError,
    DirectoryUnavailable,
    DirectoryUser,
    OutcomeUnknown,
    PasswordRejected,
    StillLockedAfterReset,
)
from ...store.flows import ResetFlow
from ..container import Collaborators
from ..messaging import languages, password_notices, webhooks
from ..passwords import writes
from ..passwords.rules import Violation, personal_words
from ..security import audit
from . import flows
from .accounts import Account, SignedIn, reload
from .verification import guard

EVENT_PASSWORD = "reset.password"
EVENT_UNLOCK = "reset.unlock"


class Written(enum.Enum):
    DONE = "done"                  # the directory confirmed it
    STILL_LOCKED = "still_locked"  # the password changed, the unlock did not
    UNKNOWN = "unknown"            # sent, no answer: may or may not have changed
    REJECTED = "rejected"          # the rules or the directory refused this password: try another
    UNAVAILABLE = "unavailable"    # the directory could not be reached; nothing changed, try again
    REFUSED = "refused"            # the account may not be changed here (any more)


# what each outcome does to the flow, and how the audit trail records it
_FLOW_STATE = {Written.DONE: flows.DONE, Written.STILL_LOCKED: flows.DONE, Written.UNKNOWN: flows.UNKNOWN,
               Written.REJECTED: flows.VERIFIED, Written.UNAVAILABLE: flows.VERIFIED,
               Written.REFUSED: flows.FAILED}
_AUDIT_OUTCOME = {Written.DONE: audit.SUCCESS, Written.STILL_LOCKED: audit.SUCCESS, Written.UNKNOWN: audit.UNKNOWN,
                  Written.REJECTED: audit.FAILURE, Written.UNAVAILABLE: audit.FAILURE,
                  Written.REFUSED: audit.FAILURE}

# outcomes after which the new password may be the account's: its sessions end, the browser's rotates
PASSWORD_MAY_HAVE_CHANGED = (Written.DONE, Written.STILL_LOCKED, Written.UNKNOWN)


@dataclass(frozen=True)
class WriteResult:
    outcome: Written
    message: str | None = None  # the directory's sentence for the person, when it said no
    violations: list[Violation] = field(default_factory=list)


def write(c: Collaborators, binding: flows.Binding | None, *, new_password: str | None,
          signed_in: SignedIn | None) -> WriteResult:
    """Set `new_password`, or unlock when it is None. FlowError when the flow is not at this step
    (or another flow of the account is writing: reason "busy"); AttemptNotRecorded when the store
    failed before the write (nothing changed)."""
    event = EVENT_UNLOCK if new_password is None else EVENT_PASSWORD
    with writes.before_write(c.store) as db:
        flow = flows.load(db, binding, states=(flows.VERIFIED,))
        account = reload(c, db, flow.account_key, signed_in) if flow.account_key else None
        if account is None:
            flows.end(db, flow, flows.FAILED)
            audit.record(db, event, audit.REFUSED, username=flow.login, reason="no_longer_eligible")
            return WriteResult(Written.REFUSED)
        if new_password is None and not c.settings.reset.allow_unlock:
            raise flows.FlowError("wrong_step")
        if new_password is not None:
            violations = c.password_rules.check(new_password, personal=personal_words(account.user))
            if violations:
                audit.record(db, event, audit.FAILURE, username=flow.login, reason=violations[0].code,
                             details={"rules": ",".join(v.code for v in violations)})
                return WriteResult(Written.REJECTED, violations=violations)
        flows.claim_write(db, flow)
        attempt = writes.attempt(db, event, username=flow.login)
        flow_id = flow.id
    outcome, error = _write(c, account.user, new_password)
    with writes.after_write(c.store, attempt) as db:
        _record(c, db, flow_id, attempt, account, new_password, outcome, error)
    return WriteResult(outcome, message=str(error.message) if error else None)


def _record(c: Collaborators, db: Session, flow_id: str, attempt: writes.Attempt, account: Account, new_password: str | None,
            outcome: Written, error: DirectoryError | None) -> None:
    """What the directory's answer means: the flow moved on, the outcome on record, the person told,
    and after a new password, their sessions ended."""
    flow = db.get(ResetFlow, flow_id)
    assert flow is not None
    if _FLOW_STATE[outcome] == flows.DONE:
        # the guard's row before the flows' rows, the order verification locks them in (no deadlock)
        guard(c).clear(db, flow.guard_key)
    flows.release(db, flow, _FLOW_STATE[outcome])
    attempt.finish(db, _AUDIT_OUTCOME[outcome], reason=error.code if error else None,
                   details={"methods": ",".join(flow.methods_done)})
    if flow.state == flows.DONE:
        languages.remember(db, account.user)
        if new_password is None:
            password_notices.account_unlocked(db, account.user, info=account.info)
            webhooks.emit(db, c.outbox, webhooks.ACCOUNT_UNLOCKED, account.user)
        else:
            password_notices.password_reset(db, account.user, admin=account.policy.admin, info=account.info)
            webhooks.emit(db, c.outbox, webhooks.PASSWORD_RESET, account.user)
    if new_password is not None and outcome in PASSWORD_MAY_HAVE_CHANGED:
        writes.password_written(db, account.user, confirmed=outcome is not Written.UNKNOWN)


def _write(c: Collaborators, user: DirectoryUser,
           new_password: str | None) -> tuple[Written, DirectoryError | None]:
    try:
        if new_password is None:
            c.directory.unlock(user)
        else:
            c.directory.reset_password(user, new_password, unlock=c.settings.reset.unlock_on_reset)
    except StillLockedAfterReset as error:
        return Written.STILL_LOCKED, error
    except PasswordRejected as error:
        return Written.REJECTED, error
    except DirectoryUnavailable as error:
        return Written.UNAVAILABLE, error
    except OutcomeUnknown as error:
        return Written.UNKNOWN, error
    except DirectoryError as error:
        return Written.REFUSED, error
    return Written.DONE, None
