"""The notice page of registration enforced at sign-in, /enforce for other applications, and the
status API. The mark and the gate that send people here are web/registration_gate.py's; other
applications send people to /enforce?return_to=URL for the same check.
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..adapters.directory import DirectoryUnavailable, directory_for
from ..extensions import limiter
from ..services.registration.enforcement import evaluate
from ..services.registration.return_urls import allowed_return_url
from ..services.security import audit
from ..settings import Settings
from ..store.db import db
from ..web.account import account_groups, signed_in_account
from ..web.identity import current_user, sign_in_required
from ..web.registration_gate import pending, require

log = logging.getLogger(__name__)
bp = Blueprint("enforce", __name__)


def _settings() -> Settings:
    return current_app.extensions["settings"]


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
    _policy, status = evaluate(db(), _settings(), account, account_groups(account))
    if not status.compliant:
        return redirect(require(account.login, status.reason or "", request.full_path))
    audit.record(db(), "enforcement.returned", audit.SUCCESS, username=account.login,
                 details={"origin": url.split("/", 3)[2][:100]})
    db().commit()
    return redirect(url)


def _return_url() -> str | None:
    """The request's `return_to` if its origin is allowed; else None, logged and audited."""
    value = request.args.get("return_to", "")
    url = allowed_return_url(value, _settings().registration.return_to_origins)
    if url is None:
        _refuse_return(value)
    return url


def _refuse_return(value: str) -> None:
    """Log what was refused (escaped and cut short: it is attacker-controlled text)."""
    shown = value[:200].encode("unicode_escape").decode("ascii")
    log.warning("return_to refused", extra={"return_to": shown})
    user = current_user()
    audit.record(db(), "enforcement.return_refused", audit.REFUSED, username=user.username if user else None,
                 reason="origin_not_allowed", details={"return_to": shown})
    db().commit()


@bp.get("/api/v1/registration-status")
@limiter.limit("120 per minute")
def status_api() -> ResponseReturnValue:
    """For integrators: is this person registered and compliant? Bearer API key from settings."""
    settings = _settings()
    key = settings.registration.api_key
    if not key:
        return jsonify(error="not_found"), 404
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(hashlib.sha256(offered.encode()).digest(), hashlib.sha256(key.encode()).digest()):
        return jsonify(error="unauthorized"), 401, {"WWW-Authenticate": 'Bearer realm="registration-status"'}
    login = request.args.get("user", "")
    if not 0 < len(login) <= 256:
        return jsonify(error="missing_user", message="Pass ?user=<login name or email>."), 400
    try:
        account = directory_for().find_user(login)
    except DirectoryUnavailable:
        return jsonify(error="directory_unavailable"), 503
    if account is None:
        return jsonify(error="unknown_user"), 404
    policy, status = evaluate(db(), settings, account, account.groups)
    return jsonify(user=account.login, registered=status.methods >= status.required, methods=status.methods,
                   methods_required=status.required, administrator=policy.admin,
                   last_confirmation=status.confirmed_at.isoformat() if status.confirmed_at else None,
                   compliant=status.compliant, reason=status.reason)
