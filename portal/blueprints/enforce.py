"""The notice page of registration enforced at sign-in, /enforce for other applications, and the
status API. The mark and the gate that send people here are web/registration_gate.py's; other
applications send people to /enforce?return_to=URL for the same check.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..extensions import limiter
from ..services.container import collaborators
from ..services.registration import enforcement
from ..web.account import account_groups, signed_in_account
from ..web.identity import current_user, sign_in_required
from ..web.registration_gate import mark_pending, pending

bp = Blueprint("enforce", __name__)


@bp.get("/security-info/required")
@sign_in_required
def required() -> ResponseReturnValue:
    mark = pending()
    if mark is None:
        return redirect(url_for("register.index"))
    return render_template("enforce/required.html", reason=mark.get("reason"))


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
    if not status.compliant:
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
