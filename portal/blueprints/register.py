"""/register: people see, add, change, remove and re-confirm the methods that prove who they are.

Changing anything needs a recent proof of identity: a sign-in at most
`recent_sign_in_minutes` old (else the provider is asked to sign them in again, `max_age=0`) or
a code sent to a method already registered. A new email address or phone number is only saved
once the code sent THERE is typed back; an authenticator app once it shows a valid code; a
passkey once the browser's answer to this session's challenge checks out (static/passkey.js asks
the device; a registered passkey is also a proof before a change). Every
change is audited and announced by mail to the account's address and the old alternate one.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from ..branding import current_theme
from ..extensions import limiter
from ..services.container import Collaborators, collaborators
from ..services.identity.redirects import safe_next_path
from ..services.proofs.codes import CodeCheck
from ..services.proofs.methods import DESTINATIONS, REGISTRY, passkey
from ..services.proofs.security_info import Destination, SecurityInfo
from ..services.proofs.verification import Sent
from ..services.registration import steps
from ..services.registration.steps import Change, Enrolment, NotOffered, Person
from ..web import registration_gate
from ..web.account import account_groups, signed_in_account
from ..web.errors import render_error
from ..web.headers import forms_may_lead_back
from ..web.identity import current_user, sign_in_required
from ..web.passkeys import relying_party
from ..web.reauthentication import reauthenticate

bp = Blueprint("register", __name__, url_prefix="/register")
F = TypeVar("F", bound=Callable[..., Any])

STEP_UP_KEY = "register_step_up"          # a code or app check passed: {"account", "at"}
STEP_UP_CODE_KEY = "register_step_up_code"  # where the step-up code went: {"account", "destination", "next"}
PENDING_KEY = "register_pending"          # an address waiting for its code: {"account", "kind", "address"}
TOTP_KEY = "register_totp"                # an app being enrolled: {"account", "sealed"}
PASSKEY_KEY = "register_passkey"          # a passkey being created: {"account", "challenge", "at"}
STEP_UP_PASSKEY_KEY = "register_step_up_passkey"  # the challenge the step-up by passkey answers (same shape)
DESTINATION_KIND = f"<any({', '.join(DESTINATIONS)}):kind>"
ANY_KIND = f"<any({', '.join(REGISTRY)}):kind>"
SEND_LIMIT = "10 per minute"
CHECK_LIMIT = "20 per minute"


@bp.errorhandler(NotOffered)
def _not_offered(_error: NotOffered) -> ResponseReturnValue:
    return render_error(404)


def _me() -> Person:
    account = signed_in_account()
    return Person(account, frozenset(account_groups(account)))


# ---------- recent proof of identity ----------

def _recently_verified(c: Collaborators, me: Person) -> bool:
    window = c.settings.registration.recent_sign_in_minutes * 60
    now = c.clock.timestamp()
    user = current_user()
    if user is not None and now - user.auth_time <= window:
        return True
    mark = session.get(STEP_UP_KEY)
    return (isinstance(mark, dict) and mark.get("account") == me.user.directory_id
            and now - int(mark.get("at", 0)) <= window)


def recent_verification_required(view: F) -> F:
    """Send people to prove who they are first; GET pages come back to themselves afterwards."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _recently_verified(collaborators(), _me()):
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
@forms_may_lead_back
@sign_in_required
def index() -> ResponseReturnValue:
    now = steps.standing(collaborators(), _me())
    return render_template("register/index.html", rows=now.rows, policy=now.policy, status=now.status,
                           pending=registration_gate.pending())


@bp.post("/confirm")
@sign_in_required
def confirm() -> ResponseReturnValue:
    """"These are still correct": records re-confirmation, then continues an interrupted sign-in."""
    result = steps.confirm(collaborators(), _me())
    if not result.confirmed:
        flash(ngettext("Register at least %(num)d method first.", "Register at least %(num)d methods first.",
                       result.required), "error")
        return redirect(url_for(".index"))
    if registration_gate.pending() is not None:
        return redirect(registration_gate.release())
    flash(_("Thank you. Your security info is confirmed."), "success")
    return redirect(url_for(".index"))


def _changed(change: Change, message: str) -> ResponseReturnValue:
    """After any change: continue an interrupted sign-in if the info is now complete."""
    flash(message, "success")
    if registration_gate.pending() is not None and change.compliant:
        return redirect(registration_gate.release())
    return redirect(url_for(".index"))


# ---------- proving who you are before a change ----------

@bp.get("/verify")
@sign_in_required
def verify() -> ResponseReturnValue:
    me = _me()
    return _verify_page(me, steps.standing(collaborators(), me).info, _next_in_register(request.args.get("next")))


def _verify_page(me: Person, info: SecurityInfo, target: str, code: int = 200, **errors: str) -> ResponseReturnValue:
    """The ways to prove it is you; with a passkey, options for it (their challenge kept in the session)."""
    options = _passkey_challenge(STEP_UP_PASSKEY_KEY, me, steps.step_up_passkey(relying_party())) \
        if info.has_passkey else None
    return render_template("register/verify.html", destinations=info.destinations, has_totp=info.has_totp,
                           passkey_options=options, next=target, **errors), code


@bp.get("/reauth")
@sign_in_required
def reauth() -> ResponseReturnValue:
    """Ask the provider to sign the person in again whatever their single sign-on session says."""
    return reauthenticate(_next_in_register(request.args.get("next")))


@bp.post("/verify/send")
@limiter.limit(SEND_LIMIT)
@sign_in_required
def verify_send() -> ResponseReturnValue:
    me = _me()
    key = request.form.get("destination", "")
    sent = steps.send_step_up_code(collaborators(), me, key, request.remote_addr)
    if sent is None:
        return render_error(400)
    target = _next_in_register(request.form.get("next"))
    problem = _unsent(sent)
    if problem is not None:
        return problem
    session[STEP_UP_CODE_KEY] = {"account": me.user.directory_id, "destination": key, "next": target}
    return redirect(url_for(".verify_code"))


@bp.route("/verify/code", methods=["GET", "POST"])
@limiter.limit(CHECK_LIMIT, methods=["POST"])
@sign_in_required
def verify_code() -> ResponseReturnValue:
    me = _me()
    sent = _mine(STEP_UP_CODE_KEY)
    if sent is None:
        return redirect(url_for(".verify"))
    typed = request.form.get("code", "") if request.method == "POST" else None
    answer = steps.check_step_up_code(collaborators(), me, sent["destination"], typed)
    if answer.destination is None:
        return redirect(url_for(".verify"))
    if answer.result is None:
        return _code_page(answer.destination, url_for(".verify_code"))
    if answer.result is CodeCheck.VALID:
        session.pop(STEP_UP_CODE_KEY, None)
        return _stepped_up(me, sent["next"])
    return _code_page(answer.destination, url_for(".verify_code"), _code_problem(answer.result), 400)


@bp.post("/verify/totp")
@limiter.limit(CHECK_LIMIT)
@sign_in_required
def verify_totp() -> ResponseReturnValue:
    me = _me()
    target = _next_in_register(request.form.get("next"))
    result = steps.check_step_up_app(collaborators(), me, request.form.get("code", ""))
    if result.passed:
        return _stepped_up(me, target)
    return _verify_page(me, result.info, target, 400, totp_error=_("That code is not right, or was used already. "
                                                                   "Wait for a new code and try again."))


@bp.post("/verify/passkey")
@limiter.limit(CHECK_LIMIT)
@sign_in_required
def verify_passkey() -> ResponseReturnValue:
    c, me = collaborators(), _me()
    target = _next_in_register(request.form.get("next"))
    result = steps.check_step_up_passkey(c, me, relying_party(), request.form.get("credential", ""),
                                         _taken_challenge(c, STEP_UP_PASSKEY_KEY))
    if result.passed:
        return _stepped_up(me, target)
    return _verify_page(me, result.info, target, 400, passkey_error=_("Your passkey could not be checked. "
                                                                       "Try again, or choose another way."))


def _stepped_up(me: Person, target: str) -> ResponseReturnValue:
    session[STEP_UP_KEY] = {"account": me.user.directory_id, "at": collaborators().clock.timestamp()}
    return redirect(_next_in_register(target))


# ---------- alternate email and mobile phone ----------

@bp.route(f"/{DESTINATION_KIND}", methods=["GET", "POST"])
@limiter.limit(SEND_LIMIT, methods=["POST"])
@sign_in_required
@recent_verification_required
def destination(kind: str) -> ResponseReturnValue:
    c, me = collaborators(), _me()
    label = REGISTRY[kind].label
    if request.method == "GET":
        current = steps.standing(c, me, kind).info.registered(kind)
        return render_template("register/destination.html", kind=kind, label=label, current=current)
    typed = request.form.get("address", "")
    result = steps.send_address_code(c, me, kind, typed, request.remote_addr)
    if result.sent is None or result.address is None:
        return render_template("register/destination.html", kind=kind, label=label, current=result.current,
                               typed=typed, error=result.error), 400
    problem = _unsent(result.sent)
    if problem is not None:
        return problem
    session[PENDING_KEY] = {"account": me.user.directory_id, "kind": kind, "address": result.address}
    return redirect(url_for(".confirm_destination", kind=kind))


@bp.route(f"/{DESTINATION_KIND}/confirm", methods=["GET", "POST"])
@forms_may_lead_back
@limiter.limit(CHECK_LIMIT, methods=["POST"])
@sign_in_required
@recent_verification_required
def confirm_destination(kind: str) -> ResponseReturnValue:
    waiting = _mine(PENDING_KEY)
    address = waiting["address"] if waiting is not None and waiting.get("kind") == kind else None
    typed = request.form.get("code", "") if request.method == "POST" else None
    answer = steps.confirm_address(collaborators(), _me(), kind, address, typed)
    if answer.destination is None:
        return redirect(url_for(".destination", kind=kind))
    action_url = url_for(".confirm_destination", kind=kind)
    if answer.result is None:
        return _code_page(answer.destination, action_url, resend_kind=kind)
    if answer.change is None:
        return _code_page(answer.destination, action_url, _code_problem(answer.result), 400, resend_kind=kind)
    session.pop(PENDING_KEY, None)
    return _changed(answer.change, _("Your %(method)s was saved.", method=answer.change.named))


def _unsent(sent: Sent) -> ResponseReturnValue | None:
    """None when the code is on its way, else the page that says why not."""
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
                           minutes=collaborators().settings.codes.valid_minutes, resend_kind=resend_kind,
                           method_label=REGISTRY[resend_kind].label if resend_kind else None), code


def _code_problem(result: CodeCheck) -> str:
    if result is CodeCheck.WRONG:
        return str(_("That code is not right. Check it and try again."))
    if result is CodeCheck.SPENT:
        return str(_("That code was entered wrongly too many times and no longer works. Request a new code."))
    return str(_("That code has expired or was replaced by a newer one. Request a new code."))


# ---------- authenticator app ----------

@bp.route("/totp", methods=["GET", "POST"])
@forms_may_lead_back
@limiter.limit(CHECK_LIMIT, methods=["POST"])
@sign_in_required
@recent_verification_required
def authenticator() -> ResponseReturnValue:
    c, me = collaborators(), _me()
    issuer = current_theme().file.organization
    enrolling = _mine(TOTP_KEY)
    if request.method == "GET" or enrolling is None:
        enrolment = steps.start_app(c, me, issuer, enrolling["sealed"] if enrolling else None)
        session[TOTP_KEY] = {"account": me.user.directory_id, "sealed": enrolment.sealed}
        return _totp_page(enrolment)
    enrolment = steps.confirm_app(c, me, enrolling["sealed"], request.form.get("code", ""), issuer)
    if enrolment.change is None:
        return _totp_page(enrolment, _("That code is not right. Enter the 6 digits the app shows now."), 400)
    session.pop(TOTP_KEY, None)
    return _changed(enrolment.change, _("Your authenticator app is set up."))


def _totp_page(enrolment: Enrolment, error: str | None = None, code: int = 200) -> ResponseReturnValue:
    return render_template("register/totp.html", qr=enrolment.qr, secret=enrolment.key, uri=enrolment.uri,
                           error=error), code


@bp.post("/totp/cancel")
@sign_in_required
def cancel_authenticator() -> ResponseReturnValue:
    """Drop the key being set up: the next visit shows a new one (nothing was saved)."""
    session.pop(TOTP_KEY, None)
    return redirect(url_for(".index"), 303)


# ---------- passkey ----------

@bp.route("/passkey", methods=["GET", "POST"])
@forms_may_lead_back
@limiter.limit(CHECK_LIMIT, methods=["POST"])
@sign_in_required
@recent_verification_required
def passkey_page() -> ResponseReturnValue:
    """The browser creates the passkey (static/passkey.js) for the challenge kept in the session,
    which is taken out before the answer is checked: each challenge is used once."""
    c, me = collaborators(), _me()
    if request.method == "GET":
        return _passkey_form(c, me)
    change = steps.save_passkey(c, me, relying_party(), request.form.get("credential", ""), _taken_challenge(c))
    if change is None:
        return _passkey_form(c, me, _("The passkey was not created. Try again, or choose another method."), 400)
    return _changed(change, _("Your passkey is saved."))


def _passkey_form(c: Collaborators, me: Person, error: str | None = None, code: int = 200) -> ResponseReturnValue:
    options = _passkey_challenge(PASSKEY_KEY, me, steps.start_passkey(c, me, relying_party()))
    return render_template("register/passkey.html", options=options, error=error), code


def _passkey_challenge(key: str, me: Person, challenge: passkey.Challenge) -> str:
    """Keep the challenge in the session under `key` (for this account, with its time); the options."""
    session[key] = {"account": me.user.directory_id, "challenge": passkey.encoded(challenge.challenge),
                    "at": collaborators().clock.timestamp()}
    return challenge.options


def _taken_challenge(c: Collaborators, key: str = PASSKEY_KEY) -> bytes | None:
    """The session's challenge under `key`, removed from it; None when there is none or it is too old."""
    kept = _mine(key)
    session.pop(key, None)
    if kept is None or c.clock.timestamp() - int(kept.get("at", 0)) > passkey.CHALLENGE_SECONDS:
        return None
    return passkey.decoded(str(kept.get("challenge", "")))


# ---------- security questions ----------

@bp.route("/questions", methods=["GET", "POST"])
@forms_may_lead_back
@sign_in_required
@recent_verification_required
def security_questions() -> ResponseReturnValue:
    c, me = collaborators(), _me()
    slots = range(1, c.settings.registration.questions.register_count + 1)
    if request.method == "GET":
        return render_template("register/questions.html", offered=steps.question_form(c, me), slots=slots,
                               chosen={}, answers={})
    chosen = {request.form.get(f"question_{i}", ""): request.form.get(f"answer_{i}", "") for i in slots}
    result = steps.save_questions(c, me, chosen)
    if result.change is None:  # the questions and answers typed stay: the person corrects one, not all
        picked = {i: request.form.get(f"question_{i}", "") for i in slots}
        answers = {i: request.form.get(f"answer_{i}", "") for i in slots}
        return render_template("register/questions.html", offered=result.offered, slots=slots, chosen=picked,
                               answers=answers, error=result.error), 400
    return _changed(result.change, _("Your security questions are saved."))


# ---------- removing ----------

@bp.post(f"/{ANY_KIND}/remove")
@sign_in_required
@recent_verification_required
def remove(kind: str) -> ResponseReturnValue:
    """Remove a method; the last one only after the page that says what that means was confirmed."""
    removal = steps.remove(collaborators(), _me(), kind, confirmed=request.form.get("confirmed") == "yes")
    if removal.confirm_last:
        return render_template("register/remove.html", kind=kind, label=REGISTRY[kind].label)
    if removal.change is None:
        flash(_("There was nothing to remove."), "error")
        return redirect(url_for(".index"))
    return _changed(removal.change, _("Your %(method)s was removed.", method=removal.change.named))
