"""Verification inside a reset: the registration issue's method services, wrapped in the flow's rules.

Until the first method passes, nothing shown depends on the account: the choices are the method
kinds this portal offers, a code is "sent if this account has one registered", and a flow for a
name that cannot reset runs the same steps with decoy work of the same kind (a budget spent, a
code looked up, argon2 run on each answer) and never passes. After a method passes the person
has proven who they are, and the remaining registered methods are shown, masked.

Every attempt is counted against the account's guard (all aliases together) before it is
compared; the failure that reaches the limit pauses the account's reset, ends its open flows and
emails the person, once however many fail in parallel. The questions a flow asks are drawn once
and showing them is an attempt: taken back when they are answered right, a failure when the
person leaves them unanswered, so choosing them again never shows a more convenient pair.

A passkey is asked for with the same options for every name: a random challenge kept in the
flow's row and no list of credentials (the device offers the discoverable passkeys it holds for
this host), so nothing tells whether the account exists or has one. The check then requires the
passkey used to be the one registered to the flow's account; any other is refused like a wrong
code. Each challenge is replaced before the answer is compared, so it is answered once.
"""
from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy.orm import Session

from ... import clock
from ...store.flows import ResetFlow
from ..container import Collaborators
from ..messaging import password_notices, webhooks
from ..proofs.codes import CodeCheck
from ..proofs.methods import REGISTRY, Proves, keys_that, passkey, questions
from ..proofs.security_info import Destination, SecurityInfo
from ..proofs.verification import (
    Sent,
    check_answers,
    check_code,
    check_passkey,
    check_totp,
    questions_to_ask,
    send_code,
)
from ..registration.policy import available_methods
from ..security import audit
from ..security.budgets import spend
from ..security.guards import Guard
from . import flows
from .accounts import Account
from .decoys import decoy_answers_checked, decoy_questions

PURPOSE = "reset"
CODE_KINDS = keys_that(Proves.SENT_CODE)
EVENT_METHOD = "reset.method"
EVENT_VERIFY = "reset.verify"
EVENT_PAUSED = "reset.paused"
SHOWN = "shown"  # in `pending`: the questions on screen were counted as an attempt when shown
CHALLENGE, CHALLENGE_AT = "challenge", "challenge_at"  # in `pending`: the passkey challenge, and when made


class Check(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    PAUSED = "paused"


@dataclass(frozen=True)
class Choice:
    """A method the person may pick now; `masked` is empty before they have proven anything."""

    kind: str
    masked: str = ""


def guard(c: Collaborators) -> Guard:
    s = c.settings.reset
    return Guard("reset-verify", s.max_failed_verifications, timedelta(minutes=s.failure_window_minutes),
                 timedelta(minutes=s.pause_minutes))


def choices(c: Collaborators, flow: ResetFlow, account: Account | None) -> list[Choice]:
    """Before the first method: every kind the portal offers. After it: the account's own methods."""
    if not flow.methods_done:
        return [Choice(kind) for kind in available_methods(c.settings)]
    assert account is not None  # a method passed, so the account is real
    left = [kind for kind in account.policy.counted(account.info) if kind not in flow.methods_done]
    if _last_must_resist_phishing(account, flow):
        left = [kind for kind in left if REGISTRY[kind].phishing_resistant]
    return [Choice(kind, _masked(account.info, kind)) for kind in left]


def _last_must_resist_phishing(account: Account, flow: ResetFlow) -> bool:
    """An administrator who must have a passkey must also use it: when one method is left to
    verify and none so far resists phishing, only such a method is offered."""
    return (account.policy.phishing_resistant_needed and len(flow.methods_done) + 1 >= flow.methods_required
            and not any(REGISTRY[kind].phishing_resistant for kind in flow.methods_done))


def _masked(info: SecurityInfo, kind: str) -> str:
    destination = destination_for(info, kind)
    return destination.masked if destination else ""


def destination_for(info: SecurityInfo, kind: str) -> Destination | None:
    """The person's own destination of this kind first, the directory's otherwise."""
    return info.registered(kind) or next((d for d in info.destinations if d.kind == kind), None)


def _usable(account: Account | None, kind: str) -> bool:
    return account is not None and kind in account.policy.counted(account.info)


def begin(c: Collaborators, db: Session, flow: ResetFlow, account: Account | None, kind: str,
          ip: str | None) -> Sent | Check | None:
    """Start verifying with `kind`: send a code, show questions. Sent.THROTTLED when over budget,
    Check.PAUSED when the questions may not be shown (the account is paused)."""
    if kind not in {choice.kind for choice in choices(c, flow, account)}:
        raise flows.FlowError("wrong_step")
    pending: dict[str, object] = {"method": kind}
    sent = None
    proves = REGISTRY[kind].proves
    if proves is Proves.SENT_CODE:
        sent = _send(c, db, flow, account, kind, ip)
    elif proves is Proves.ANSWERS:
        if not guard(c).admit(db, flow.guard_key):
            audit.record(db, EVENT_METHOD, audit.REFUSED, username=flow.login, reason="paused",
                         details={"method": kind})
            return _failure(c, db, flow, account)[0]
        pending |= {flows.QUESTIONS_ASKED: _questions(c, flow, account), SHOWN: True}
    elif proves is Proves.ASSERTION:
        pending |= fresh_challenge()
    audit.record(db, EVENT_METHOD, audit.SUCCESS if sent in (None, Sent.SENT) else audit.REFUSED,
                 username=flow.login, reason=sent.value if sent and sent is not Sent.SENT else None,
                 details={"method": kind})
    flows.set_pending(db, flow, pending)
    return sent


def _send(c: Collaborators, db: Session, flow: ResetFlow, account: Account | None, kind: str, ip: str | None) -> Sent:
    destination = destination_for(account.info, kind) if account and _usable(account, kind) else None
    if account is not None and destination is not None:
        return send_code(db, c.codes, user=account.user, destination=destination, purpose=PURPOSE, ip=ip)
    limits = c.settings.codes
    budgets = [("code-account", flow.guard_key, f"{limits.per_account_per_hour}/hour")]
    if ip:
        budgets.append(("code-ip", ip, f"{limits.per_ip_per_hour}/hour"))
    return Sent.SENT if spend(budgets) else Sent.THROTTLED


def _questions(c: Collaborators, flow: ResetFlow, account: Account | None) -> list[str]:
    """The flow's questions: drawn the first time they are shown, the same ones ever after."""
    drawn = flow.pending.get(flows.QUESTIONS_ASKED)
    if drawn:
        return list(drawn)
    settings = c.settings.registration.questions
    if account is not None and _usable(account, questions.KEY):
        return [q.key for q in questions_to_ask(account.info, settings)]
    return decoy_questions(flow.guard_key, settings)


def fresh_challenge() -> dict[str, object]:
    """A new passkey challenge for `pending`: the same for every flow, real or decoy."""
    return {CHALLENGE: passkey.encoded(passkey.new_challenge()), CHALLENGE_AT: clock.timestamp()}


def live_challenge(flow: ResetFlow) -> bytes | None:
    """The flow's passkey challenge while it is young enough to be answered."""
    made = flow.pending.get(CHALLENGE_AT)
    if not isinstance(made, int) or clock.timestamp() - made > passkey.CHALLENGE_SECONDS:
        return None
    return passkey.decoded(str(flow.pending.get(CHALLENGE, "")))


def _taken_challenge(db: Session, flow: ResetFlow) -> bytes | None:
    """The challenge being answered, replaced by a new one before anything is compared: each is
    answered once, and after a failure the page asks with the new one."""
    challenge = live_challenge(flow)
    flows.set_pending(db, flow, {**flow.pending, **fresh_challenge()})
    return challenge


def asked_questions(c: Collaborators, flow: ResetFlow) -> list[questions.Question]:
    offered = {q.key: q for q in questions.catalogue(c.settings.registration.questions)}
    return [offered[key] for key in flow.pending.get(flows.QUESTIONS_ASKED, []) if key in offered]


def check(c: Collaborators, db: Session, flow: ResetFlow, account: Account | None,
          form: Mapping[str, str], rp: passkey.RelyingParty | None = None) -> tuple[Check, datetime | None]:
    """Check what the person typed for the pending method; the pause's end when paused.

    The attempt is counted against the guard before anything is compared (the first answer to
    questions just shown uses the count made when they were shown), so parallel attempts compare
    at most the guard's limit, and exactly one failure pauses.
    """
    kind = flow.pending.get("method")
    if not isinstance(kind, str) or kind not in REGISTRY:
        raise flows.FlowError("wrong_step")
    shown = bool(flow.pending.get(SHOWN))
    if not guard(c).admit(db, flow.guard_key, counted=shown):
        audit.record(db, EVENT_VERIFY, audit.REFUSED, username=flow.login, reason="paused", details={"method": kind})
        return _failure(c, db, flow, account)
    if shown:  # a parallel answer to the same showing finds the flow moved on and compares nothing
        flows.set_pending(db, flow, {key: value for key, value in flow.pending.items() if key != SHOWN})
    passed = _passes(c, db, flow, account, kind, form, rp)
    audit.record(db, EVENT_VERIFY, audit.SUCCESS if passed else audit.FAILURE, username=flow.login,
                 reason=None if passed else "wrong", details={"method": kind})
    if not passed:
        return _failure(c, db, flow, account)
    guard(c).passed(db, flow.guard_key)
    flows.passed(db, flow, kind)
    return Check.PASSED, None


def _failure(c: Collaborators, db: Session, flow: ResetFlow, account: Account | None) -> tuple[Check, datetime | None]:
    """A failed or refused attempt. The one failure that starts the pause ends the account's flows
    and tells the person; any other while the pause lasts just reports it."""
    until = guard(c).failed(db, flow.guard_key)
    if until is None:
        until = guard(c).paused_until(db, flow.guard_key)
        return (Check.FAILED, None) if until is None else (Check.PAUSED, until)
    flows.pause_all(db, flow.guard_key)
    audit.record(db, EVENT_PAUSED, audit.REFUSED, username=flow.login, reason="too_many_failures",
                 details={"minutes": c.settings.reset.pause_minutes})
    if account is not None:
        password_notices.reset_paused(db, account.user, until=until)
        webhooks.emit(db, c.outbox, webhooks.RESET_PAUSED, account.user,
                      until=until.isoformat().replace("+00:00", "Z"))
    return Check.PAUSED, until


def _passes(c: Collaborators, db: Session, flow: ResetFlow, account: Account | None, kind: str,
            form: Mapping[str, str], rp: passkey.RelyingParty | None) -> bool:
    """Whether what was typed proves `kind`; an account that cannot use it gets decoy work of the
    same kind (a code looked up, a TOTP computed, argon2 on each answer, a challenge used up) and
    never passes."""
    real = account is not None and _usable(account, kind)
    proves = REGISTRY[kind].proves
    if proves is Proves.ASSERTION:
        challenge = _taken_challenge(db, flow)
        if account is None or not real or rp is None:
            return False
        return check_passkey(db, c.settings.codes, user=account.user, rp=rp, response=form.get("credential", ""),
                             challenge=challenge or b"", purpose=PURPOSE)
    if proves is Proves.SENT_CODE:
        destination = destination_for(account.info, kind) if account is not None and real else None
        if account is None or destination is None:
            c.codes.check(db, owner=flow.guard_key, purpose=PURPOSE, destination="", typed=form.get("code", ""))
            return False
        return check_code(db, c.codes, user=account.user, destination=destination, purpose=PURPOSE,
                          typed=form.get("code", "")) is CodeCheck.VALID
    if proves is Proves.CURRENT_CODE:
        if account is None or not real:
            _decoy_totp().verify(form.get("code", "") or "000000")
            return False
        return check_totp(db, c.settings.codes, user=account.user, typed=form.get("code", ""), purpose=PURPOSE)
    answers = {key: form.get(f"answer-{key}", "") for key in flow.pending.get(flows.QUESTIONS_ASKED, [])}
    if account is None or not real:
        decoy_answers_checked(answers)
        return False
    return check_answers(db, c.settings.codes, user=account.user, answers=answers, purpose=PURPOSE)


@functools.cache
def _decoy_totp() -> pyotp.TOTP:
    return pyotp.TOTP(pyotp.random_base32())
