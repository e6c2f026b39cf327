"""/register: people see, add, change, remove and re-confirm the methods that prove who they are.

Changing anything needs a recent proof of identity: a sign-in at most
`recent_sign_in_minutes` old (else the provider is asked to sign them in again, `max_age=0`) or
a code sent to a method already registered. A new email address or phone number is only saved
once the code sent THERE is typed back; an authenticator app once it shows a valid code. Every
change is audited and announced by mail to the account's address and the old alternate one.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from .. import clock
from ..adapters.directory import DirectoryUser
from ..branding import current_theme
from ..extensions import limiter
from ..services.identity.redirects import safe_next_path
from ..services.messaging import notifications
from ..services.proofs import security_info
from ..services.proofs.codes import CodeCheck
from ..services.proofs.methods import InvalidEntry, label, questions, totp
from ..services.proofs.security_info import (
    EMAIL,
    FROM_DIRECTORY,
    FROM_USER,
    PHONE,
    QUESTIONS,
    TOTP,
    Destination,
    SecurityInfo,
)
from ..services.proofs.verification import Sent, check_code, check_totp, send_code, totp_sealer
from ..services.registration.policy import Policy, policy_for, status
from ..services.security import audit
from ..settings import Settings
from ..store.db import db
from ..web import registration_gate
from ..web.account import account_groups, signed_in_account
from ..web.errors import render_error
from ..web.identity import current_user, sign_in_required
from ..web.reauthentication import reauthenticate

bp = Blueprint("register", __name__, url_prefix="/register")
F = TypeVar("F", bound=Callable[..., Any])

STEP_UP_KEY = "register_step_up"          # a code or app check passed: {"account", "at"}
STEP_UP_CODE_KEY = "register_step_up_code"  # where the step-up code went: {"account", "destination", "next"}
PENDING_KEY = "register_pending"          # an address waiting for its code: {"account", "kind", "address"}
TOTP_KEY = "register_totp"                # an app being enrolled: {"account", "sealed"}
DESTINATION_KINDS = (EMAIL, PHONE)
STEP_UP_PURPOSE = "step-up"
SEND_LIMIT = "10 per minute"
CHECK_LIMIT = "20 per minute"


def _settings() -> Settings:
    return current_app.extensions["settings"]


def _context() -> tuple[DirectoryUser, Policy, SecurityInfo]:
    account = signed_in_account()
    registration = _settings().registration
    info = security_info.load(db(), account, registration.directory_methods, registration.phone)
    return account, policy_for(_settings(), account_groups(account)), info


# ---------- recent proof of identity ----------

def _recently_verified(account: DirectoryUser) -> bool:
    window = _settings().registration.recent_sign_in_minutes * 60
    now = clock.timestamp()
    user = current_user()
    if user is not None and now - user.auth_time <= window:
        return True
    mark = session.get(STEP_UP_KEY)
    return (isinstance(mark, dict) and mark.get("account") == account.directory_id
            and now - int(mark.get("at", 0)) <= window)


def recent_verification_required(view: F) -> F:
    """Send people to prove who they are first; GET pages come back to themselves afterwards."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _recently_verified(signed_in_account()):
            back = request.path if request.method == "GET" else url_for(".index")
            return redirect(url_for(".verify", next=back))
        return view(*args, **kwargs)
    return wrapper  # type: ignore[return-value]


def _mine(key: str) -> dict[str, str] | None:
    """A pending step stored in the session, only if it belongs to the signed-in account."""
    value = session.get(key)
    if isinstance(value, dict) and value.get("account") == signed_in_account().directory_id:
        return value
    return None


def _next_in_register(value: str | None) -> str:
    path = safe_next_path(value, url_for(".index"))
    return path if path.startswith(url_for(".index")) else url_for(".index")


# ---------- overview and re-confirmation ----------

@bp.get("")
@sign_in_required
def index() -> ResponseReturnValue:
    account, policy, info = _context()
    current = status(_settings(), policy, info, clock.utcnow())
    rows = [_row(kind, policy, info) for kind in policy.methods]
    return render_template("register/index.html", rows=rows, policy=policy, status=current,
                           pending=registration_gate.pending())


def _row(kind: str, policy: Policy, info: SecurityInfo) -> dict[str, Any]:
    mine = info.registered(kind) if kind in DESTINATION_KINDS else None
    directory = next((d for d in info.destinations if d.kind == kind and d.source == FROM_DIRECTORY), None)
    registered = {EMAIL: mine is not None, PHONE: mine is not None, TOTP: info.has_totp,
                  QUESTIONS: bool(info.answered)}[kind]
    return {"kind": kind, "label": label(kind), "registered": registered, "value": mine.masked if mine else None,
            "directory_value": directory.masked if directory else None, "counted": kind in policy.counted(info)}


@bp.post("/confirm")
@sign_in_required
def confirm() -> ResponseReturnValue:
    """"These are still correct": records re-confirmation, then continues an interrupted sign-in."""
    account, policy, info = _context()
    if not policy.satisfied_by(info):
        flash(ngettext("Register at least %(num)d method first.", "Register at least %(num)d methods first.",
                       policy.required), "error")
        return redirect(url_for(".index"))
    security_info.confirm(db(), account)
    audit.record(db(), "registration.confirmed", audit.SUCCESS, username=account.login)
    db().commit()
    if registration_gate.pending() is not None:
        return redirect(registration_gate.release())
    flash(_("Thank you. Your security info is confirmed."), "success")
    return redirect(url_for(".index"))


def _changed(account: DirectoryUser, before: SecurityInfo, kind: str, action: str,
             message: str) -> ResponseReturnValue:
    """After any change: audit, notify, commit, and continue an interrupted sign-in if now complete."""
    audit.record(db(), f"registration.method_{action}", audit.SUCCESS, username=account.login,
                 details={"method": kind})
    notifications.security_info_changed(db(), user=account, before=before, method=kind, action=action)
    db().commit()
    flash(message, "success")
    if registration_gate.pending() is not None:
        _account, policy, info = _context()
        if status(_settings(), policy, info, clock.utcnow()).compliant:
            return redirect(registration_gate.release())
    return redirect(url_for(".index"))


# ---------- proving who you are before a change ----------

@bp.get("/verify")
@sign_in_required
def verify() -> ResponseReturnValue:
    _account, _policy, info = _context()
    target = _next_in_register(request.args.get("next"))
    return render_template("register/verify.html", destinations=info.destinations, has_totp=info.has_totp,
                           next=target)


@bp.get("/reauth")
@sign_in_required
def reauth() -> ResponseReturnValue:
    """Ask the provider to sign the person in again whatever their single sign-on session says."""
    return reauthenticate(_next_in_register(request.args.get("next")))


@bp.post("/verify/send")
@limiter.limit(SEND_LIMIT)
@sign_in_required
def verify_send() -> ResponseReturnValue:
    account, _policy, info = _context()
    destination = info.destination(request.form.get("destination", ""))
    if destination is None:
        return render_error(400)
    target = _next_in_register(request.form.get("next"))
    problem = _send(account, destination, STEP_UP_PURPOSE)
    if problem is not None:
        return problem
    session[STEP_UP_CODE_KEY] = {"account": account.directory_id, "destination": destination.key, "next": target}
    return redirect(url_for(".verify_code"))


@bp.route("/verify/code", methods=["GET", "POST"])
@limiter.limit(CHECK_LIMIT, methods=["POST"])
@sign_in_required
def verify_code() -> ResponseReturnValue:
    account, _policy, info = _context()
    sent = _mine(STEP_UP_CODE_KEY)
    destination = info.destination(sent["destination"]) if sent else None
    if sent is None or destination is None:
        return redirect(url_for(".verify"))
    if request.method == "POST":
        result = check_code(db(), user=account, destination=destination, purpose=STEP_UP_PURPOSE,
                            typed=request.form.get("code", ""))
        db().commit()
        if result is CodeCheck.VALID:
            session.pop(STEP_UP_CODE_KEY, None)
            return _stepped_up(account, sent["next"])
        return _code_page(destination, url_for(".verify_code"), _code_problem(result), 400)
    return _code_page(destination, url_for(".verify_code"))


@bp.post("/verify/totp")
@limiter.limit(CHECK_LIMIT)
@sign_in_required
def verify_totp() -> ResponseReturnValue:
    account, _policy, info = _context()
    target = _next_in_register(request.form.get("next"))
    if check_totp(db(), user=account, typed=request.form.get("code", ""), purpose=STEP_UP_PURPOSE):
        db().commit()
        return _stepped_up(account, target)
    db().commit()
    return render_template("register/verify.html", destinations=info.destinations, has_totp=info.has_totp,
                           next=target, totp_error=_("That code is not right, or was used already. "
                                                     "Wait for a new code and try again.")), 400


def _stepped_up(account: DirectoryUser, target: str) -> ResponseReturnValue:
    session[STEP_UP_KEY] = {"account": account.directory_id, "at": clock.timestamp()}
    return redirect(_next_in_register(target))


# ---------- alternate email and mobile phone ----------

def _destination_context(kind: str) -> tuple[DirectoryUser, SecurityInfo]:
    """The signed-in account and its info, for a destination kind this person may register."""
    account, policy, info = _context()
    if kind not in policy.methods:
        abort(404)
    return account, info


@bp.route("/<any(email, phone):kind>", methods=["GET", "POST"])
@limiter.limit(SEND_LIMIT, methods=["POST"])
@sign_in_required
@recent_verification_required
def destination(kind: str) -> ResponseReturnValue:
    account, info = _destination_context(kind)
    current = info.registered(kind)
    if request.method == "GET":
        return render_template("register/destination.html", kind=kind, label=label(kind), current=current)
    typed = request.form.get("address", "")
    try:
        address = security_info.normalize_destination(kind, typed, _settings().registration.phone)
    except InvalidEntry as problem:
        return render_template("register/destination.html", kind=kind, label=label(kind), current=current,
                               typed=typed, error=problem.message), 400
    target = Destination(kind, address, FROM_USER)
    problem_page = _send(account, target, f"register-{kind}")
    if problem_page is not None:
        return problem_page
    session[PENDING_KEY] = {"account": account.directory_id, "kind": kind, "address": address}
    return redirect(url_for(".confirm_destination", kind=kind))


@bp.route("/<any(email, phone):kind>/confirm", methods=["GET", "POST"])
@limiter.limit(CHECK_LIMIT, methods=["POST"])
@sign_in_required
@recent_verification_required
def confirm_destination(kind: str) -> ResponseReturnValue:
    account, info = _destination_context(kind)
    waiting = _mine(PENDING_KEY)
    if waiting is None or waiting.get("kind") != kind:
        return redirect(url_for(".destination", kind=kind))
    target = Destination(kind, waiting["address"], FROM_USER)
    action_url = url_for(".confirm_destination", kind=kind)
    if request.method == "GET":
        return _code_page(target, action_url, resend_kind=kind)
    result = check_code(db(), user=account, destination=target, purpose=f"register-{kind}",
                        typed=request.form.get("code", ""))
    if result is not CodeCheck.VALID:
        db().commit()
        return _code_page(target, action_url, _code_problem(result), 400, resend_kind=kind)
    session.pop(PENDING_KEY, None)
    action = notifications.CHANGED if info.registered(kind) else notifications.ADDED
    security_info.save_method(db(), account, kind, destination=target.address)
    message = _("Your %(method)s was saved.", method=label(kind).lower())
    return _changed(account, info, kind, action, message)


def _send(account: DirectoryUser, destination: Destination, purpose: str) -> ResponseReturnValue | None:
    """Send a code; None when it is on its way, else the page that says why not."""
    sent = send_code(db(), user=account, destination=destination, purpose=purpose, ip=request.remote_addr)
    db().commit()
    if sent is Sent.THROTTLED:
        return render_error(429, _("Too many codes requested"),
                            _("For your security, only a few codes can be sent per hour. Try again later."))
    if sent is Sent.UNAVAILABLE:
        return render_error(503, _("Codes cannot be sent right now"),
                            _("Please try again later or contact the help desk."))
    return None


def _code_page(destination: Destination, action_url: str, error: str | None = None, code: int = 200,
               resend_kind: str | None = None) -> ResponseReturnValue:
    return render_template("register/code.html", destination=destination, action_url=action_url, error=error,
                           minutes=_settings().codes.valid_minutes, resend_kind=resend_kind), code


def _code_problem(result: CodeCheck) -> str:
    if result is CodeCheck.WRONG:
        return _("That code is not right. Check it and try again.")
    if result is CodeCheck.SPENT:
        return _("That code was entered wrongly too many times and no longer works. Request a new code.")
    return _("That code has expired or was replaced by a newer one. Request a new code.")


# ---------- authenticator app ----------

@bp.route("/totp", methods=["GET", "POST"])
@limiter.limit(CHECK_LIMIT, methods=["POST"])
@sign_in_required
@recent_verification_required
def authenticator() -> ResponseReturnValue:
    account, policy, info = _context()
    if TOTP not in policy.methods:
        abort(404)
    enrolling = _mine(TOTP_KEY)
    if request.method == "GET" or enrolling is None:
        # a new secret for every visit: each secret is shown once, on this one page
        secret = totp.new_secret()
        session[TOTP_KEY] = {"account": account.directory_id, "sealed": totp_sealer().seal(secret)}
        return _totp_page(account, secret)
    secret = totp_sealer().unseal(enrolling["sealed"])
    step = totp.matching_step(secret, request.form.get("code", ""))
    if step is None:
        audit.record(db(), "totp.failed", audit.FAILURE, username=account.login, reason="wrong",
                     details={"purpose": "register-totp"})
        db().commit()
        return _totp_page(account, secret, _("That code is not right. Enter the 6 digits the app shows now."), 400)
    session.pop(TOTP_KEY, None)
    action = notifications.CHANGED if info.has_totp else notifications.ADDED
    security_info.save_method(db(), account, TOTP, sealed_secret=totp_sealer().seal(secret), last_used_step=step)
    return _changed(account, info, TOTP, action, _("Your authenticator app is set up."))


def _totp_page(account: DirectoryUser, secret: str, error: str | None = None, code: int = 200) -> ResponseReturnValue:
    issuer = current_theme().file.organization
    uri = totp.provisioning_uri(secret, account.login, issuer)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("register/totp.html", qr=totp.qr_svg_data_uri(uri), secret=grouped, error=error), code


# ---------- security questions ----------

@bp.route("/questions", methods=["GET", "POST"])
@sign_in_required
@recent_verification_required
def security_questions() -> ResponseReturnValue:
    account, policy, info = _context()
    if QUESTIONS not in policy.methods:
        abort(404)  # administrators are never offered questions
    settings = _settings().registration.questions
    offered = questions.catalogue(settings)
    slots = range(1, settings.register_count + 1)
    if request.method == "GET":
        return render_template("register/questions.html", offered=offered, slots=slots, chosen={})
    chosen = {request.form.get(f"question_{i}", ""): request.form.get(f"answer_{i}", "") for i in slots}
    try:
        normalized = questions.validate(chosen, login=account.login, settings=settings)
    except InvalidEntry as problem:
        picked = {i: request.form.get(f"question_{i}", "") for i in slots}
        return render_template("register/questions.html", offered=offered, slots=slots, chosen=picked,
                               error=problem.message), 400
    action = notifications.CHANGED if info.answered else notifications.ADDED
    security_info.save_answers(db(), account, {key: questions.hash_answer(answer)
                                               for key, answer in normalized.items()})
    return _changed(account, info, QUESTIONS, action, _("Your security questions are saved."))


# ---------- removing ----------

@bp.post("/<any(email, phone, totp, questions):kind>/remove")
@sign_in_required
@recent_verification_required
def remove(kind: str) -> ResponseReturnValue:
    account, _policy, info = _context()
    if not security_info.remove_method(db(), account, kind):
        db().rollback()
        flash(_("There was nothing to remove."), "error")
        return redirect(url_for(".index"))
    return _changed(account, info, kind, notifications.REMOVED,
                    _("Your %(method)s was removed.", method=label(kind).lower()))
