"""The notice page of registration enforced at sign-in, /enforce for other applications, and the
status API. The mark and the gate that send people here are web/registration_gate.py's; other
applications send people to /enforce?return_to=URL for the same check.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..extensions import limiter
from ..services.container import collaborators
from ..services.registration import enforcement, snooze
from ..web.account import account_groups, signed_in_account
from ..web.headers import forms_may_lead_back
from ..web.identity import current_user, sign_in_required
from ..web.registration_gate import mark_pending, pending, postpone, postponed

bp = Blueprint("enforce", __name__)


@bp.get("/security-info/required")
@forms_may_lead_back  # "not now" can end an /enforce round trip at the other application
@sign_in_required
def required() -> ResponseReturnValue:
    mark = pending()
    if mark is None:
        return redirect(url_for("register.index"))
    allowance = snooze.allowance(collaborators(), signed_in_account())
    return render_template("enforce/required.html", reason=mark.get("reason"), allowance=allowance)


@bp.post("/security-info/required/later", endpoint="snooze")
@sign_in_required
def snooze_registration() -> ResponseReturnValue:
    """"Not now": on to where the person was going, while the allowance lasts; else back to the
    notice page, which then says registration can no longer wait."""
    mark = pending()
    if mark is None:
        return redirect(url_for("register.index"))
    allowance = snooze.snooze(collaborators(), signed_in_account(), mark.get("reason", ""))
    if not allowance.allowed:
        flash(_("You can no longer postpone this. Please continue to register your security info."), "error")
        return redirect(url_for(".required")), 303
    return redirect(postpone()), 303


@bp.get("/enforce")
@limiter.limit("30 per minute")
def start() -> ResponseReturnValue:
    """For other applications: sign in (single sign-on), check, and go back to `return_to`."""
    url = _return_url()
    if url is None:
        return redirect(url_for("landing.index"))
    return redirect(url_for("auth.signin", next=url_for("enforce.finish", return_to=url)))


@bp.get("/enforce/continue")
@sign_in_required
def finish() -> ResponseReturnValue:
    url = _return_url()
    if url is None:
        return redirect(url_for("landing.index"))
    account = signed_in_account()
    status = enforcement.check(collaborators(), account, account_groups(account), returning_to=url)
    if not status.compliant and not postponed():
        return redirect(mark_pending(status.reason or "", request.full_path))
    return redirect(url)


def _return_url() -> str | None:
    """The request's `return_to` if its origin is allowed; else None (logged and audited)."""
    user = current_user()
    return enforcement.return_url(collaborators(), request.args.get("return_to", ""),
                                  username=user.username if user else None)


@bp.get("/api/v1/registration-status")
@limiter.limit("120 per minute")
def status_api() -> ResponseReturnValue:
    """For integrators: is this person registered and compliant? Bearer API key from settings."""
    c = collaborators()
    key = c.settings.registration.api_key
    if not key:
        return jsonify(error="not_found"), 404
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(hashlib.sha256(offered.encode()).digest(), hashlib.sha256(key.encode()).digest()):
        return jsonify(error="unauthorized"), 401, {"WWW-Authenticate": 'Bearer realm="registration-status"'}
    login = request.args.get("user", "")
    if not 0 < len(login) <= 256:
        return jsonify(error="missing_user", message="Pass ?user=<login name or email>."), 400
    try:
        found = enforcement.registration_status(c, login)
    except enforcement.DirectoryUnavailable:
        return jsonify(error="directory_unavailable"), 503
    if found is None:
        return jsonify(error="unknown_user"), 404
    status = found.status
    return jsonify(user=found.login, registered=status.methods >= status.required, methods=status.methods,
                   methods_required=status.required, administrator=found.policy.admin,
                   last_confirmation=status.confirmed_at.isoformat() if status.confirmed_at else None,
                   compliant=status.compliant, reason=status.reason)
