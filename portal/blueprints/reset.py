"""/reset: someone who forgot their password proves who they are and chooses a new one, signed out.

Steps: identify (login name or email) -> verify (as many methods as their policy needs) -> new
password (or unlock) -> the directory's answer. The state of every step is a database row bound
to this browser's session and to the account found at the first step (services/reset/flows.py);
after that step the account is never taken from the request again.

Until a method has passed, every answer is the same for every name: same pages, statuses,
cookies and redirects, each held to [reset] min_response_ms. Limits are per IP (the limiter)
and per account (budgets and the guard, every alias counted together).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..adapters.directory import Directory, DirectoryUnavailable, directory_for
from ..extensions import limiter
from ..services.proofs.methods import label
from ..services.proofs.security_info import QUESTIONS, TOTP
from ..services.proofs.verification import Sent
from ..services.reset import flows
from ..services.reset.accounts import Account, SignedIn, look_up, reload
from ..services.reset.identifiers import InvalidIdentifier, parse_identifier
from ..services.reset.verification import (
    CODE_KINDS,
    Check,
    asked_questions,
    begin,
    check,
    choices,
    destination_for,
    guard,
)
from ..services.reset.writer import PASSWORD_MAY_HAVE_CHANGED, WriteResult, Written, password_rules, write
from ..services.security import audit
from ..services.security.budgets import spend
from ..services.security.crypto import app_secret
from ..services.security.guards import guard_key
from ..settings import Settings
from ..store import get_store
from ..store.db import db
from ..store.flows import ResetFlow
from ..web import fields
from ..web.identity import current_user
from ..web.pacing import paced

bp = Blueprint("reset", __name__, url_prefix="/reset")
EVENT_IDENTIFY = "reset.identify"
EVENT_REFUSED_STEP = "reset.step_refused"
EVENT_UNAVAILABLE = "reset.unavailable"  # the directory could not be reached; nothing changed


def _settings() -> Settings:
    return current_app.extensions["settings"]


def _directory() -> Directory:
    return directory_for()


def _binding() -> flows.Binding | None:
    return flows.Binding.from_session(session.get(flows.SESSION_KEY))


def _signed_in() -> SignedIn | None:
    """The provider's view of who is signed in here, if anyone: their groups count for the scope."""
    user = current_user()
    return SignedIn(user.username, frozenset(user.groups)) if user else None


def _identify_limit() -> str:
    return f"{_settings().reset.identify_per_ip_per_hour} per hour"


def _verify_limit() -> str:
    return f"{_settings().reset.verify_per_ip_per_hour} per hour"


def _proven_account(flow: ResetFlow, session_db: Session | None = None) -> Account | None:
    """The flow's account when it is needed: real flows only, read again from the directory.

    Before any method passed a decoy flow has no account and a real one is read only where the
    work is paced; after one passed, an account that may no longer reset ends the flow.
    """
    if flow.account_key is None:
        return None
    account = reload(session_db or db(), _directory(), flow.account_key, _signed_in())
    if account is None and flow.methods_done:
        raise flows.FlowError("no_longer_eligible")
    return account


def _next_step(flow: ResetFlow) -> ResponseReturnValue:
    return redirect(url_for("reset.password" if flow.state == flows.VERIFIED else "reset.verify"), 303)


# -- errors that end or refuse a step ------------------------------------------------------------

@bp.errorhandler(flows.FlowError)
def _flow_error(error: flows.FlowError) -> ResponseReturnValue:
    """The same page for every refusal; the trail names the flow's account when this browser has one."""
    db().rollback()
    audit.record(db(), EVENT_REFUSED_STEP, audit.REFUSED, username=flows.login_of(db(), _binding()),
                 reason=error.reason, details={"endpoint": request.endpoint or ""})
    db().commit()
    return render_template("reset/ended.html", reason=error.reason), 409


@bp.errorhandler(DirectoryUnavailable)
def _directory_down(error: DirectoryUnavailable) -> ResponseReturnValue:
    db().rollback()
    audit.record(db(), EVENT_UNAVAILABLE, audit.FAILURE, reason=error.code,
                 details={"endpoint": request.endpoint or ""})
    db().commit()
    return render_template("reset/unavailable.html", directory_down=True), 503


# -- (a) identify --------------------------------------------------------------------------------

@bp.get("/")
def start() -> ResponseReturnValue:
    if _settings().rollout.reset == "nobody":
        return render_template("reset/unavailable.html", directory_down=False)
    return render_template("reset/start.html")


@bp.post("/")
@limiter.limit(_identify_limit)
@paced
def identify() -> ResponseReturnValue:
    settings = _settings()
    if settings.rollout.reset == "nobody":
        return render_template("reset/unavailable.html", directory_down=False)
    try:
        identifier = parse_identifier(request.form.get("identifier", ""))
    except InvalidIdentifier as error:
        return render_template("reset/start.html", error=error.message), 400
    with get_store().transaction() as tx:
        found = look_up(tx, _directory(), identifier.typed, _signed_in())
        key = guard_key(app_secret(), directory_id=found.user.directory_id if found.user else None,
                        identifier=identifier.counted)
        login = found.user.login if found.user else None
        refusal = _identify_refusal(tx, key)
        if refusal is not None:
            audit.record(tx, EVENT_IDENTIFY, audit.REFUSED, username=login, reason=refusal)
        else:
            account = found.account
            binding = flows.start(
                tx, account_key=account.user.directory_id if account else None, login=login, guard_key=key,
                methods_required=account.policy.required if account else settings.registration.methods_required,
                lifetime=_lifetime(), previous=_binding())
            audit.record(tx, EVENT_IDENTIFY, audit.SUCCESS if account else audit.REFUSED, username=login,
                         reason=found.reason)
    if refusal is not None:
        return render_template("reset/paused.html"), 429
    session[flows.SESSION_KEY] = binding.to_session()
    return redirect(url_for("reset.verify"), 303)


def _identify_refusal(tx: Session, key: str) -> str | None:
    """Why this account may not start a reset now ("paused", "rate_limited"), the same for any name."""
    if guard().paused_until(tx, key) is not None:
        return "paused"
    per_hour = _settings().reset.identify_per_account_per_hour
    return None if spend([("reset-identify", key, f"{per_hour}/hour")]) else "rate_limited"


def _lifetime() -> timedelta:
    return timedelta(minutes=_settings().reset.flow_minutes)


# -- (b) verify ----------------------------------------------------------------------------------

@bp.get("/verify")
def verify() -> ResponseReturnValue:
    flow = flows.load(db(), _binding())
    if flow.state == flows.VERIFIED:
        return _next_step(flow)
    account = _proven_account(flow) if flow.methods_done else None
    return render_template("reset/verify.html", choices=choices(flow, account), first=not flow.methods_done,
                           label=label)


@bp.post("/verify")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
@paced
def choose() -> ResponseReturnValue:
    kind = request.form.get("method", "")
    with get_store().transaction() as tx:
        flow = flows.load(tx, _binding(), states=(flows.IDENTIFIED,))
        sent = begin(tx, flow, _proven_account(flow, tx), kind, request.remote_addr)
        first = not flow.methods_done
    if sent is Check.PAUSED:
        return _paused()
    if sent is Sent.THROTTLED:
        return render_template("reset/verify.html", choices=[], first=first, label=label, throttled=True), 429
    return redirect(url_for("reset.questions" if kind == QUESTIONS else "reset.code"), 303)


@bp.get("/code")
def code() -> ResponseReturnValue:
    flow = flows.load(db(), _binding(), states=(flows.IDENTIFIED,))
    return _code_page(flow)


def _code_page(flow: ResetFlow, error: str | None = None) -> ResponseReturnValue:
    kind = flow.pending.get("method")
    if kind not in (*CODE_KINDS, TOTP):
        raise flows.FlowError("wrong_step")
    account = _proven_account(flow) if flow.methods_done else None
    destination = destination_for(account.info, kind) if account and kind in CODE_KINDS else None
    return render_template("reset/code.html", kind=kind, masked=destination.masked if destination else "",
                           minutes=_settings().codes.valid_minutes, error=error), 400 if error else 200


@bp.post("/code")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
@paced
def check_code() -> ResponseReturnValue:
    return _check(lambda flow, error: _code_page(flow, error))


@bp.get("/questions")
def questions() -> ResponseReturnValue:
    flow = flows.load(db(), _binding(), states=(flows.IDENTIFIED,))
    return _questions_page(flow)


def _questions_page(flow: ResetFlow, error: str | None = None) -> ResponseReturnValue:
    if flow.pending.get("method") != QUESTIONS:
        raise flows.FlowError("wrong_step")
    return render_template("reset/questions.html", questions=asked_questions(flow), error=error), \
        400 if error else 200


@bp.post("/questions")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
@paced
def check_answers() -> ResponseReturnValue:
    return _check(lambda flow, error: _questions_page(flow, error))


def _check(page: Callable[[ResetFlow, str], ResponseReturnValue]) -> ResponseReturnValue:
    """Check the pending method; on failure show `page` again with the one message every name gets."""
    with get_store().transaction() as tx:
        flow = flows.load(tx, _binding(), states=(flows.IDENTIFIED,))
        outcome, _until = check(tx, flow, _proven_account(flow, tx), request.form)
    if outcome is Check.PAUSED:
        return _paused()
    flow = flows.load(db(), _binding(), states=flows.OPEN_STATES)
    if outcome is Check.FAILED:
        return page(flow, _("That is not right, or it has expired. Check and try again, "
                            "or choose another way to verify."))
    return _next_step(flow)


def _paused() -> ResponseReturnValue:
    """The account's reset is paused: this browser's flow has ended (the same page for every name)."""
    session.pop(flows.SESSION_KEY, None)
    return render_template("reset/paused.html", notified=True), 429


# -- (c) new password, (d) write -----------------------------------------------------------------

@bp.get("/password")
def password() -> ResponseReturnValue:
    flow = flows.load(db(), _binding(), states=(flows.VERIFIED,))
    return _password_page(flow)


def _password_page(flow: ResetFlow, *, errors: list[str] | None = None, status: int = 200) -> ResponseReturnValue:
    account = _proven_account(flow)
    if account is None:
        raise flows.FlowError("no_longer_eligible")
    policy = _directory().password_policy(account.user)
    return render_template("reset/password.html", rules=password_rules().describe(policy), errors=errors or [],
                           can_unlock=_settings().reset.allow_unlock and account.user.state.locked), status


@bp.post("/password")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
def set_password() -> ResponseReturnValue:
    try:
        new, again = (fields.password(request.form.get(name)) for name in ("new_password", "new_password_again"))
        if new != again:
            raise fields.InvalidField(_("The two passwords are not the same. Type the new one twice."))
    except fields.InvalidField as error:
        flow = flows.load(db(), _binding(), states=(flows.VERIFIED,))
        return _password_page(flow, errors=[error.message], status=400)
    return _written(_write(new), unlock=False)


@bp.post("/unlock")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
def unlock() -> ResponseReturnValue:
    return _written(_write(None), unlock=True)


def _write(new_password: str | None) -> WriteResult:
    return write(get_store(), _directory(), _binding(), new_password=new_password, signed_in=_signed_in())


def _written(result: WriteResult, *, unlock: bool) -> ResponseReturnValue:
    if not unlock and result.outcome in PASSWORD_MAY_HAVE_CHANGED:
        session.rotate()  # type: ignore[attr-defined]  # the person's signed-in sessions were ended
    if result.outcome in (Written.REJECTED, Written.UNAVAILABLE):
        flow = flows.load(db(), _binding(), states=(flows.VERIFIED,))
        errors = [v.message for v in result.violations] or [result.message or ""]
        return _password_page(flow, errors=errors, status=400 if result.outcome is Written.REJECTED else 503)
    status = {Written.DONE: 200, Written.STILL_LOCKED: 200, Written.UNKNOWN: 502, Written.REFUSED: 403}
    return render_template("reset/result.html", outcome=result.outcome.value, unlock=unlock,
                           message=result.message), status[result.outcome]


@bp.post("/cancel")
def cancel() -> ResponseReturnValue:
    with get_store().transaction() as tx:
        flow = flows.load(tx, _binding())
        flows.end(tx, flow, flows.ABANDONED)
        audit.record(tx, "reset.cancelled", audit.SUCCESS, username=flow.login)
    session.pop(flows.SESSION_KEY, None)
    return redirect(url_for("landing.index"), 303)
