"""Registration enforced at sign-in: the session's "pending" mark and the gate that honours it.

After sign-in, a person in scope who lacks enough methods or is due to re-confirm gets a
"pending" mark in their session; while it is there, every page except registration, sign-in and
sign-out sends them to the notice page (a before_request gate, so no route can skip it). Once
their info is complete and confirmed, the mark is released and they continue where they were
going; so they do when they choose "not now" while they still may (services/registration/snooze.py),
for the rest of that session.
"""
from __future__ import annotations

import logging

from flask import Flask, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from ..adapters.directory import DirectoryUnavailable
from ..services.container import collaborators
from ..services.identity.oidc import Identity
from ..services.identity.redirects import safe_next_path
from ..services.registration import enforcement
from .account import signed_in_user
from .identity import current_user

log = logging.getLogger(__name__)
PENDING_KEY = "registration_pending"
SNOOZED_KEY = "registration_snoozed"
# what a person with a pending mark may still reach: the way out, the way through, and "not now"
OPEN_BLUEPRINTS = {"register", "assets", "health"}
OPEN_ENDPOINTS = {"enforce.required", "enforce.snooze", "enforce.start", "auth.signin", "auth.callback",
                  "auth.signout"}


def after_sign_in(identity: Identity, next_path: str, resume: str | None = None) -> str:
    """Where a fresh sign-in continues: `next_path`, or the notice page when registration is due.
    `resume` is where an interrupted sign-in of the same person was going (`carried_over`).

    First the new session is linked to its directory entry (web/account.py does it), so that a
    new password ends this session too. An unreachable directory does not stop the sign-in: the
    first page that loads the account links the session then, and registration, which needs the
    directory too, is not interrupted for now."""
    try:
        account = signed_in_user()  # remembered just before: the entry that carries their name
    except DirectoryUnavailable as error:
        log.warning("session not linked to its directory entry yet, directory unavailable: %s", error.detail)
        return next_path
    c = collaborators()
    if account is None or account.protected:
        return next_path
    groups = set(account.groups) | set(identity.groups)
    if not enforcement.in_scope(c.settings, groups):
        return next_path
    status = enforcement.check(c, account, groups)
    if status.compliant:
        return next_path
    if next_path.startswith(url_for("register.index")):
        # on the way to registration already (e.g. back from signing in again to change a method):
        # afterwards, on to where the interrupted sign-in was going (another application, say)
        mark_pending(status.reason or "", resume or "/")
        return next_path
    return mark_pending(status.reason or "", next_path)


def carried_over(username: str) -> str | None:
    """Where this browser's pending mark was going, if it is `username`'s: a new sign-in makes a
    new session, and a person who signs in again in the middle of registering (their sign-in had
    grown too old to change a method) must still end where they were going, such as back at the
    application that sent them to /enforce."""
    mark, user = pending(), current_user()
    return mark.get("next") if mark is not None and user is not None and user.username == username else None


def mark_pending(reason: str, next_path: str) -> str:
    """Mark the session pending (the reason is on record already); the URL of the notice page."""
    session[PENDING_KEY] = {"next": next_path, "reason": reason}
    return url_for("enforce.required")


def pending() -> dict[str, str] | None:
    value = session.get(PENDING_KEY)
    return value if isinstance(value, dict) else None


def returning_elsewhere() -> bool:
    """Whether the pending mark continues at /enforce/continue, that is on to another application."""
    mark = pending()
    return mark is not None and str(mark.get("next", "")).startswith(url_for("enforce.finish"))


def release() -> str:
    """Clear the mark; where the person was going before they were interrupted."""
    mark = session.pop(PENDING_KEY, None) or {}
    return safe_next_path(mark.get("next"))


def postpone() -> str:
    """"Not now" was granted: clear the mark, and let /enforce return this session's person to
    other applications without asking again until they sign in anew (a new session); where the
    person was going."""
    session[SNOOZED_KEY] = True
    return release()


def postponed() -> bool:
    return session.get(SNOOZED_KEY) is True


def install(app: Flask) -> None:
    @app.before_request
    def _registration_gate() -> ResponseReturnValue | None:
        if pending() is None or current_user() is None:
            return None
        if request.blueprint in OPEN_BLUEPRINTS or request.endpoint in OPEN_ENDPOINTS:
            return None
        return redirect(url_for("enforce.required"))
