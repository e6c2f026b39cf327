"""/reset, one function per step the blueprint answers: identify, choose a method, check a code or
answers, the data of each page, write (or unlock), cancel, and the trail of refused steps.

Each step takes the collaborators and plain values (the typed name, the form's fields, the
binding the browser's session holds, who is signed in at the provider, the client's IP), opens
its own transaction and returns what the page shows; the blueprint keeps the request, the
session and the templates. The account is taken from the flow's row, never from the request,
after identify. Until a method has passed, nothing a step returns depends on the account: the
same results for every name (a decoy flow runs the same steps and never passes).
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from ...store.flows import ResetFlow
from ..container import Collaborators
from ..passwords.rules import Rule
from ..proofs.methods import passkey
from ..proofs.methods.passkey import KEY as PASSKEY
from ..proofs.methods.questions import KEY as QUESTIONS
from ..proofs.methods.questions import Question
from ..proofs.methods.totp import KEY as TOTP
from ..proofs.verification import Sent
from ..security import audit
from ..security.budgets import spend
from ..security.crypto import app_secret
from ..security.guards import guard_key
from . import flows, writer
from .accounts import Account, SignedIn, in_rollout, look_up, reload
from .identifiers import parse_identifier
from .verification import (
    CODE_KINDS,
    Check,
    Choice,
    asked_questions,
    begin,
    check,
    choices,
    destination_for,
    fresh_challenge,
    guard,
    live_challenge,
)

EVENT_IDENTIFY = "reset.identify"
EVENT_CANCELLED = "reset.cancelled"
EVENT_LINK = "reset.link"  # a help desk's mailed link opened: the flow is verified already
EVENT_REFUSED_STEP = "reset.step_refused"
EVENT_UNAVAILABLE = "reset.unavailable"  # the directory could not be reached; nothing changed


class Step(enum.Enum):
    """The page the browser goes to next (the blueprint's endpoint of the same name)."""

    VERIFY = "verify"
    CODE = "code"
    QUESTIONS = "questions"
    PASSKEY = "passkey"
    PASSWORD = "password"


class Offer(enum.Enum):
    """Whether this browser is offered a reset at all."""

    OFFERED = "offered"
    NOBODY = "nobody"            # [rollout] reset = "nobody"
    NOT_FOR_YOU = "not_for_you"  # the person signed in here is outside the rollout


class Refused(enum.Enum):
    PAUSED = "paused"        # the account's reset is paused: this browser's flow has ended
    THROTTLED = "throttled"  # too many codes lately: choose again later


@dataclass(frozen=True)
class Identified:
    """`binding` names the new flow for the browser's session; None when resets are not offered
    here (`offered` False) or this account's are held (paused, or over its hourly budget)."""

    offered: bool
    binding: flows.Binding | None = None


@dataclass(frozen=True)
class VerifyPage:
    choices: list[Choice]
    first: bool  # no method has passed yet: the choices are every kind the portal offers


@dataclass(frozen=True)
class Chosen:
    """Where the browser goes to answer the chosen method, or why it may not (`refused`)."""

    next: Step | None
    refused: Refused | None = None
    first: bool = True


@dataclass(frozen=True)
class CodePage:
    kind: str
    masked: str   # where the code went; empty before the person has proven anything
    minutes: int  # how long a code is valid


@dataclass(frozen=True)
class QuestionsPage:
    questions: list[Question]


@dataclass(frozen=True)
class PasskeyPage:
    options: str  # for navigator.credentials.get: the same shape for every name (no credential list)


@dataclass(frozen=True)
class Checked:
    """PASSED: `next` is where the flow goes on; FAILED: `page` is shown again, with the one
    message every name gets; PAUSED: this browser's flow has ended."""

    outcome: Check
    next: Step | None = None
    page: CodePage | QuestionsPage | PasskeyPage | None = None


@dataclass(frozen=True)
class PasswordPage:
    rules: list[Rule]  # the portal's and the directory's, shown before typing
    can_unlock: bool


@dataclass(frozen=True)
class Wrote:
    result: writer.WriteResult
    page: PasswordPage | None = None  # rejected or unavailable: the password page again


# -- (a) identify --------------------------------------------------------------------------------

def offered(c: Collaborators) -> bool:
    return c.settings.rollout.reset != "nobody"


def offer(c: Collaborators, signed_in: SignedIn | None) -> Offer:
    """What the first page offers. Someone signed in is told plainly when their own account is
    outside the rollout: they proved to the provider who they are, so the answer is about them
    and tells nothing about any other account. Signed out, every visitor gets the same page.
    Raises DirectoryUnavailable."""
    if not offered(c):
        return Offer.NOBODY
    if signed_in is None or c.settings.rollout.reset == "everybody":
        return Offer.OFFERED
    return Offer.OFFERED if in_rollout(c, signed_in) else Offer.NOT_FOR_YOU


def identify(c: Collaborators, typed: str | None, *, previous: flows.Binding | None,
             signed_in: SignedIn | None) -> Identified:
    """Start a flow for the typed name (the browser's earlier one is abandoned). The same lookups,
    result and trail shape for every name; only the audited reason differs. Raises
    InvalidIdentifier when `typed` cannot be a name, DirectoryUnavailable."""
    if not offered(c):
        return Identified(offered=False)
    identifier = parse_identifier(typed)
    with c.store.transaction() as db:
        found = look_up(c, db, identifier.typed, signed_in)
        key = guard_key(app_secret(), directory_id=found.user.directory_id if found.user else None,
                        identifier=identifier.counted)
        login = found.user.login if found.user else None
        refusal = _identify_refusal(c, db, key)
        if refusal is not None:
            audit.record(db, EVENT_IDENTIFY, audit.REFUSED, username=login, reason=refusal)
            return Identified(offered=True)
        account = found.account
        binding = flows.start(
            db, account_key=account.user.directory_id if account else None, login=login, guard_key=key,
            methods_required=account.policy.required if account else c.settings.registration.methods_required,
            lifetime=timedelta(minutes=c.settings.reset.flow_minutes), previous=previous)
        audit.record(db, EVENT_IDENTIFY, audit.SUCCESS if account else audit.REFUSED, username=login,
                     reason=found.reason)
    return Identified(offered=True, binding=binding)


def _identify_refusal(c: Collaborators, db: Session, key: str) -> str | None:
    """Why this account may not start a reset now ("paused", "rate_limited"), the same for any name."""
    if guard(c).paused_until(db, key) is not None:
        return "paused"
    per_hour = c.settings.reset.identify_per_account_per_hour
    return None if spend([("reset-identify", key, f"{per_hour}/hour")]) else "rate_limited"


# -- (b) verify ----------------------------------------------------------------------------------

def verify_page(c: Collaborators, binding: flows.Binding | None, signed_in: SignedIn | None) -> VerifyPage | Step:
    """The methods to choose from, or the password step when enough have passed."""
    with c.store.transaction() as db:
        flow = flows.load(db, binding)
        if flow.state == flows.VERIFIED:
            return Step.PASSWORD
        account = _proven_account(c, db, flow, signed_in) if flow.methods_done else None
        return VerifyPage(choices(c, flow, account), first=not flow.methods_done)


def choose(c: Collaborators, binding: flows.Binding | None, kind: str, *, ip: str | None,
           signed_in: SignedIn | None) -> Chosen:
    """Start verifying with `kind`: a code sent ("if this account has one registered"), or questions."""
    with c.store.transaction() as db:
        flow = flows.load(db, binding, states=(flows.IDENTIFIED,))
        sent = begin(c, db, flow, _proven_account(c, db, flow, signed_in), kind, ip)
        first = not flow.methods_done
    if sent is Check.PAUSED:
        return Chosen(None, Refused.PAUSED, first)
    if sent is Sent.THROTTLED:
        return Chosen(None, Refused.THROTTLED, first)
    return Chosen({QUESTIONS: Step.QUESTIONS, PASSKEY: Step.PASSKEY}.get(kind, Step.CODE), first=first)


def code_page(c: Collaborators, binding: flows.Binding | None, signed_in: SignedIn | None) -> CodePage:
    with c.store.transaction() as db:
        flow = flows.load(db, binding, states=(flows.IDENTIFIED,))
        return _code_page(c, flow, _proven_account(c, db, flow, signed_in) if flow.methods_done else None)


def _code_page(c: Collaborators, flow: ResetFlow, account: Account | None) -> CodePage:
    """The page of the pending code; where the code went is shown only once a method has passed."""
    kind = flow.pending.get("method")
    if kind not in (*CODE_KINDS, TOTP):
        raise flows.FlowError("wrong_step")
    shown = account if flow.methods_done else None
    destination = destination_for(shown.info, kind) if shown and kind in CODE_KINDS else None
    return CodePage(kind, destination.masked if destination else "", c.settings.codes.valid_minutes)


def questions_page(c: Collaborators, binding: flows.Binding | None) -> QuestionsPage:
    with c.store.transaction() as db:
        return _questions_page(c, flows.load(db, binding, states=(flows.IDENTIFIED,)))


def _questions_page(c: Collaborators, flow: ResetFlow) -> QuestionsPage:
    if flow.pending.get("method") != QUESTIONS:
        raise flows.FlowError("wrong_step")
    return QuestionsPage(asked_questions(c, flow))


def passkey_page(c: Collaborators, binding: flows.Binding | None, rp: passkey.RelyingParty) -> PasskeyPage:
    with c.store.transaction() as db:
        return _passkey_page(db, flows.load(db, binding, states=(flows.IDENTIFIED,)), rp)


def _passkey_page(db: Session, flow: ResetFlow, rp: passkey.RelyingParty) -> PasskeyPage:
    """The options to ask the device with; a challenge too old to answer is replaced first."""
    if flow.pending.get("method") != PASSKEY:
        raise flows.FlowError("wrong_step")
    challenge = live_challenge(flow)
    if challenge is None:
        flows.set_pending(db, flow, {**flow.pending, **fresh_challenge()})
        challenge = live_challenge(flow)
    assert challenge is not None
    return PasskeyPage(passkey.authentication_challenge(rp, challenge).options)


def check_passkey(c: Collaborators, binding: flows.Binding | None, form: Mapping[str, str],
                  rp: passkey.RelyingParty, signed_in: SignedIn | None) -> Checked:
    """Check the device's answer to the flow's challenge; on failure, the passkey page again."""
    return _check(c, binding, form, signed_in, lambda _flow, _account: passkey_page(c, binding, rp), rp)


def check_code(c: Collaborators, binding: flows.Binding | None, form: Mapping[str, str],
               signed_in: SignedIn | None) -> Checked:
    """Check the code typed for the pending method; on failure, the code page again."""
    return _check(c, binding, form, signed_in, lambda flow, account: _code_page(c, flow, account))


def check_answers(c: Collaborators, binding: flows.Binding | None, form: Mapping[str, str],
                  signed_in: SignedIn | None) -> Checked:
    """Check the answers typed for the pending questions; on failure, the questions again."""
    return _check(c, binding, form, signed_in, lambda flow, _account: _questions_page(c, flow))


def _check(c: Collaborators, binding: flows.Binding | None, form: Mapping[str, str], signed_in: SignedIn | None,
           page: Callable[[ResetFlow, Account | None], CodePage | QuestionsPage | PasskeyPage],
           rp: passkey.RelyingParty | None = None) -> Checked:
    """The check is committed first (counted, compared, the flow moved on); only then is the
    page after a failure made, so nothing it raises can take the count back. Every move the
    check made was applied to the flow in hand (flows._move), and the account was read for the
    check, so the page needs neither the row nor the directory again (a passkey's page stores a
    new challenge, in a transaction of its own)."""
    with c.store.transaction() as db:
        flow = flows.load(db, binding, states=(flows.IDENTIFIED,))
        account = _proven_account(c, db, flow, signed_in)
        outcome, _until = check(c, db, flow, account, form, rp)
    if outcome is Check.PAUSED:
        return Checked(outcome)
    if outcome is Check.PASSED:
        return Checked(outcome, next=Step.PASSWORD if flow.state == flows.VERIFIED else Step.VERIFY)
    return Checked(outcome, page=page(flow, account))


# -- (c) new password, (d) write -----------------------------------------------------------------

def password_page(c: Collaborators, binding: flows.Binding | None, signed_in: SignedIn | None) -> PasswordPage:
    with c.store.transaction() as db:
        return _password_page(c, db, binding, signed_in)


def _password_page(c: Collaborators, db: Session, binding: flows.Binding | None,
                   signed_in: SignedIn | None) -> PasswordPage:
    flow = flows.load(db, binding, states=(flows.VERIFIED,))
    account = _proven_account(c, db, flow, signed_in)
    if account is None:
        raise flows.FlowError("no_longer_eligible")
    policy = c.directory.password_policy(account.user)
    return PasswordPage(c.password_rules.checklist(policy),
                        can_unlock=c.settings.reset.allow_unlock and account.user.state.locked)


def write(c: Collaborators, binding: flows.Binding | None, new_password: str | None,
          signed_in: SignedIn | None) -> Wrote:
    """Set `new_password`, or unlock when it is None (services/reset/writer.py); when the password
    was refused or the directory unreachable, the password page to try again."""
    result = writer.write(c, binding, new_password=new_password, signed_in=signed_in)
    if result.outcome not in (writer.Written.REJECTED, writer.Written.UNAVAILABLE):
        return Wrote(result)
    return Wrote(result, password_page(c, binding, signed_in))


def claim_link(c: Collaborators, link: flows.Binding) -> flows.Binding:
    """Open a help desk's reset link in this browser (flows.claim): FlowError when it was used,
    has expired or never existed."""
    with c.store.transaction() as db:
        binding = flows.claim(db, link)
        audit.record(db, EVENT_LINK, audit.SUCCESS, username=flows.login_of(db, binding))
    return binding


def cancel(c: Collaborators, binding: flows.Binding | None) -> None:
    with c.store.transaction() as db:
        flow = flows.load(db, binding)
        flows.end(db, flow, flows.ABANDONED)
        audit.record(db, EVENT_CANCELLED, audit.SUCCESS, username=flow.login)


# -- refusals ------------------------------------------------------------------------------------

def step_refused(c: Collaborators, binding: flows.Binding | None, reason: str, endpoint: str) -> None:
    """On record: a request that does not fit the flow, named after the flow's account when this
    browser has one (its own transaction: the step's work was rolled back)."""
    with c.store.transaction() as db:
        audit.record(db, EVENT_REFUSED_STEP, audit.REFUSED, username=flows.login_of(db, binding),
                     reason=reason, details={"endpoint": endpoint})


def directory_unavailable(c: Collaborators, code: str, endpoint: str) -> None:
    """On record: the directory could not be reached during a step; nothing changed."""
    with c.store.transaction() as db:
        audit.record(db, EVENT_UNAVAILABLE, audit.FAILURE, reason=code, details={"endpoint": endpoint})


def _proven_account(c: Collaborators, db: Session, flow: ResetFlow, signed_in: SignedIn | None) -> Account | None:
    """The flow's account when it is needed: real flows only, read again from the directory.

    Before any method passed a decoy flow has no account and a real one is read only where the
    work is paced; after one passed, an account that may no longer reset ends the flow.
    """
    if flow.account_key is None:
        return None
    account = reload(c, db, flow.account_key, signed_in)
    if account is None and flow.methods_done:
        raise flows.FlowError("no_longer_eligible")
    return account
