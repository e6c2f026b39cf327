"""Registration enforced at sign-in: the session's "pending" mark and the gate that honours it.

After sign-in, a person in scope who lacks enough methods or is due to re-confirm gets a
"pending" mark in their session; while it is there, every page except registration, sign-in and
sign-out sends them to the notice page (a before_request gate, so no route can skip it). Once
their info is complete and confirmed, the mark is released and they continue where they were
going.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app, redirect, request, session, url_for

from ..adapters.directory import DirectoryUnavailable
from ..services.identity.oidc import Identity
from ..services.identity.redirects import safe_next_path
from ..services.registration.enforcement import evaluate, in_scope
from ..services.security import audit
from ..settings import Settings
from ..store.db import db
from .account import signed_in_user
from .identity import current_user

log = logging.getLogger(__name__)
PENDING_KEY = "registration_pending"
# what a person with a pending mark may still reach: the way out, and the way through
OPEN_BLUEPRINTS = {"register", "assets", "health"}
OPEN_ENDPOINTS = {"enforce.required", "enforce.start", "auth.signin", "auth.callback", "auth.signout"}


def _settings() -> Settings:
    return current_app.extensions["settings"]


def after_sign_in(identity: Identity, next_path: str) -> str:
    """Where a fresh sign-in continues: `next_path`, or the notice page when registration is due."""
    settings = _settings()
    if not settings.registration.require_registration:
        return next_path
    try:
        account = signed_in_user()  # remembered just before: the entry that carries their name
    except DirectoryUnavailable as error:
        # registration needs the directory too: interrupting now would lead nowhere
        log.warning("registration check skipped at sign-in, directory unavailable: %s", error.detail)
        return next_path
    if account is None or account.protected:
        return next_path
    groups = set(account.groups) | set(identity.groups)
    if not in_scope(settings, groups):
        return next_path
    _policy, status = evaluate(db(), settings, account, groups)
    if status.compliant:
        return next_path
    if next_path.startswith(url_for("register.index")):
        # on the way to registration already (e.g. back from signing in again to change a method)
        require(account.login, status.reason or "", "/")
        return next_path
    return require(account.login, status.reason or "", next_path)


def require(login: str, reason: str, next_path: str) -> str:
    """Mark the session pending; the URL of the notice page."""
    session[PENDING_KEY] = {"next": next_path, "reason": reason}
    audit.record(db(), "enforcement.required", audit.SUCCESS, username=login, reason=reason)
    db().commit()
    return url_for("enforce.required")


def pending() -> dict[str, str] | None:
    value = session.get(PENDING_KEY)
    return value if isinstance(value, dict) else None


def release() -> str:
    """Clear the mark; where the person was going before they were interrupted."""
    mark = session.pop(PENDING_KEY, None) or {}
    return safe_next_path(mark.get("next"))


def install(app: Flask) -> None:
    @app.before_request
    def _registration_gate() -> Response | None:
        if pending() is None or current_user() is None:
            return None
        if request.blueprint in OPEN_BLUEPRINTS or request.endpoint in OPEN_ENDPOINTS:
            return None
        return redirect(url_for("enforce.required"))
