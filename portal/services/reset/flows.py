"""A reset's progress as rows in the database, moved forward only by compare-and-set transitions.

The browser session holds the flow's id and a random key; the row holds the key's hash and the
account found at the start. Every step reads the row at a version (`step`) and writes only if
the row is still at that version and state, so a step cannot be skipped (the state is wrong),
replayed (the version moved on) or applied twice by two processes (one UPDATE wins). Writing
the password needs the account's single `writing` slot (a unique index), and a finished reset
ends every other open flow of the account.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import clock
from ...store import rows_changed
from ...store.flows import WRITING, ResetFlow

IDENTIFIED = "identified"  # the name was entered; verification under way
VERIFIED = "verified"      # enough methods passed; a new password (or unlock) may be written
DONE = "done"              # written and confirmed by the directory
UNKNOWN = "unknown"        # written, the directory did not answer: outcome unknown
ABANDONED = "abandoned"    # cancelled, or replaced by a new start in the same browser
SUPERSEDED = "superseded"  # another flow for the same account finished first
PAUSED = "paused"          # too many failed verifications for the account
EXPIRED = "expired"
FAILED = "failed"          # the directory refused for a reason the person cannot fix here
OPEN_STATES = (IDENTIFIED, VERIFIED)
FINAL_STATES = (DONE, UNKNOWN, ABANDONED, SUPERSEDED, PAUSED, EXPIRED, FAILED)
SESSION_KEY = "reset"
WRITE_LEASE = timedelta(minutes=2)  # longer than any directory timeout
KEEP_ENDED = timedelta(days=1)  # ended flows are kept this long for support questions, then deleted
QUESTIONS_ASKED = "questions"  # in `pending`: the question keys drawn for this flow
DRAWN = (QUESTIONS_ASKED,)  # parts of `pending` drawn once per flow, never again


class FlowError(Exception):
    """This request does not fit the flow (wrong step, replay, other browser, ended, expired)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Binding:
    """What the browser session holds: the flow's id and the key only it knows."""

    flow_id: str
    key: str

    def to_session(self) -> dict[str, str]:
        return {"flow": self.flow_id, "key": self.key}

    @classmethod
    def from_session(cls, data: Any) -> Binding | None:
        if not isinstance(data, dict) or not isinstance(data.get("flow"), str) or not isinstance(data.get("key"), str):
            return None
        return cls(data["flow"], data["key"])


def start(db: Session, *, account_key: str | None, login: str | None, guard_key: str, methods_required: int,
          lifetime: timedelta, previous: Binding | None) -> Binding:
    """A new flow for this browser; the browser's earlier open flow, if any, is abandoned."""
    if previous is not None:
        db.execute(update(ResetFlow).where(ResetFlow.id == previous.flow_id, ResetFlow.state.in_(OPEN_STATES))
                   .values(state=ABANDONED, updated_at=clock.utcnow(), step=ResetFlow.step + 1))
    now = clock.utcnow()
    db.execute(delete(ResetFlow).where(ResetFlow.expires_at < now - KEEP_ENDED, ResetFlow.state != WRITING))
    binding = Binding(secrets.token_urlsafe(24), secrets.token_urlsafe(32))
    db.add(ResetFlow(id=binding.flow_id, session_key_hash=_hash(binding.key), account_key=account_key,
                     login=login, guard_key=guard_key, state=IDENTIFIED, step=0,
                     methods_required=methods_required, methods_done=[], pending={},
                     created_at=now, updated_at=now, expires_at=now + lifetime))
    db.flush()
    return binding


def start_verified(db: Session, *, account_key: str, login: str, guard_key: str, method: str,
                   lifetime: timedelta) -> Binding:
    """A flow verified already by `method` (the help desk checked the person): its binding goes
    into a mailed link, which `claim` turns into a browser's own, once."""
    binding = start(db, account_key=account_key, login=login, guard_key=guard_key, methods_required=1,
                    lifetime=lifetime, previous=None)
    flow = db.get(ResetFlow, binding.flow_id)
    assert flow is not None
    passed(db, flow, method)
    return binding


def claim(db: Session, link: Binding) -> Binding:
    """The verified flow a link names, for this browser: the link's key is replaced by a fresh one
    only the browser holds, so the link works once (a replay, or a second click, finds no flow)."""
    flow = load(db, link, states=(VERIFIED,))
    own = Binding(flow.id, secrets.token_urlsafe(32))
    _move(db, flow, flow.state, session_key_hash=_hash(own.key))
    return own


def load(db: Session, binding: Binding | None, *, states: tuple[str, ...] = OPEN_STATES) -> ResetFlow:
    """The browser's flow if it is in one of `states`; FlowError names why not."""
    if binding is None:
        raise FlowError("no_flow")
    flow = _own_flow(db, binding)
    if flow is None:
        raise FlowError("not_this_browser")
    if flow.state in OPEN_STATES and clock.as_utc(flow.expires_at) <= clock.utcnow():
        _move(db, flow, EXPIRED)
        raise FlowError(EXPIRED)
    if flow.state not in states:
        raise FlowError("ended" if flow.state in FINAL_STATES else "wrong_step")
    return flow


def login_of(db: Session, binding: Binding | None) -> str | None:
    """The login the browser's flow was started for, whatever its state (for the audit trail only)."""
    flow = _own_flow(db, binding) if binding is not None else None
    return flow.login if flow is not None else None


def _own_flow(db: Session, binding: Binding) -> ResetFlow | None:
    """The flow the binding names, if the binding also holds its key."""
    flow = db.get(ResetFlow, binding.flow_id)
    if flow is None or not hmac.compare_digest(flow.session_key_hash, _hash(binding.key)):
        return None
    return flow


def _move(db: Session, flow: ResetFlow, state: str, **values: Any) -> None:
    """Compare-and-set: apply only if nobody moved the flow since it was read.

    The session applies the values to `flow` itself ("evaluate"): the UPDATE set every column
    that changed, so reading the row back would cost a SELECT per move for nothing."""
    done = rows_changed(db, update(ResetFlow)
                        .where(ResetFlow.id == flow.id, ResetFlow.step == flow.step, ResetFlow.state == flow.state)
                        .values(state=state, step=flow.step + 1, updated_at=clock.utcnow(), **values)
                        .execution_options(synchronize_session="evaluate"))
    if done != 1:
        raise FlowError("replayed")


def set_pending(db: Session, flow: ResetFlow, pending: dict[str, Any]) -> None:
    """Remember which verification was started (method, questions asked); what was drawn stays."""
    _move(db, flow, flow.state, pending={**_drawn(flow), **pending})


def passed(db: Session, flow: ResetFlow, method: str) -> None:
    """One method verified; the flow is VERIFIED once enough different methods passed."""
    done = [*flow.methods_done, method] if method not in flow.methods_done else list(flow.methods_done)
    state = VERIFIED if len(done) >= flow.methods_required else IDENTIFIED
    _move(db, flow, state, methods_done=done, pending=_drawn(flow))


def _drawn(flow: ResetFlow) -> dict[str, Any]:
    """What was drawn once for the whole flow (the questions it asks): kept when `pending` changes,
    so choosing another method and coming back asks the same questions."""
    return {key: flow.pending[key] for key in DRAWN if key in flow.pending}


def end(db: Session, flow: ResetFlow, state: str) -> None:
    _move(db, flow, state)


def claim_write(db: Session, flow: ResetFlow) -> None:
    """Take the account's single writing slot, or FlowError("busy") when another flow holds it.

    Runs in its own short transaction (the caller's `db` commits it at once), so a second process
    sees the claim before the directory is even called.
    """
    now = clock.utcnow()
    db.execute(update(ResetFlow).where(ResetFlow.account_key == flow.account_key, ResetFlow.state == WRITING,
                                       ResetFlow.lease_until < now)
               .values(state=UNKNOWN, updated_at=now))  # a writer that died: its outcome is unknown
    try:
        with db.begin_nested():
            _move(db, flow, WRITING, lease_until=now + WRITE_LEASE)
    except IntegrityError:
        raise FlowError("busy") from None


def release(db: Session, flow: ResetFlow, state: str) -> None:
    """Leave the writing slot: DONE ends the account's other open flows, VERIFIED allows a retry."""
    _move(db, flow, state, lease_until=None)
    if state == DONE:
        db.execute(update(ResetFlow).where(ResetFlow.account_key == flow.account_key, ResetFlow.id != flow.id,
                                           ResetFlow.state.in_(OPEN_STATES))
                   .values(state=SUPERSEDED, updated_at=clock.utcnow(), step=ResetFlow.step + 1))


def pause_all(db: Session, guard_key: str) -> None:
    """End every open flow counted against a paused account (all its aliases, all browsers)."""
    db.execute(update(ResetFlow).where(ResetFlow.guard_key == guard_key, ResetFlow.state.in_(OPEN_STATES))
               .values(state=PAUSED, updated_at=clock.utcnow(), step=ResetFlow.step + 1))
