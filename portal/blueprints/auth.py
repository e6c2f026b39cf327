"""Sign-in and sign-out through the organization's OpenID Connect provider.

Both are on the audit trail (who signed in or out, from where; why a sign-in failed), never with
the authorization code, state or tokens: the provider's answer is the reason, in words.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, redirect, request, session, url_for
from flask_babel import gettext as _

from ..adapters.directory import DirectoryUnavailable
from ..extensions import limiter
from ..services.identity.oidc import OidcSignIn, SignInError
from ..services.identity.redirects import safe_next_path
from ..services.identity.users import record_sign_in
from ..services.messaging.links import external_url
from ..services.security import audit
from ..store.db import db
from ..web.account import signed_in_user
from ..web.errors import render_error
from ..web.identity import NEXT_KEY, current_user, remember
from ..web.registration_gate import after_sign_in

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)
EVENT_SIGNIN = "auth.signin"
EVENT_SIGNOUT = "auth.signout"


def _oidc() -> OidcSignIn:
    return current_app.extensions["oidc"]


@bp.get("/signin")
@limiter.limit("30 per minute")
def signin() -> Response | tuple[str, int]:
    session[NEXT_KEY] = safe_next_path(request.args.get("next"))
    try:
        return _oidc().redirect(external_url("auth.callback"))
    except SignInError as error:
        log.warning("sign-in could not start: %s", error)
        _record_failure("provider_unavailable", error)
        return render_error(503, _("Sign-in is not available right now"),
                            _("The sign-in service could not be reached. Please try again in a few minutes."))


@bp.get("/auth/callback")
@limiter.limit("30 per minute")
def callback() -> Response | tuple[str, int]:
    try:
        identity = _oidc().complete()
    except SignInError as error:
        log.warning("sign-in rejected: %s", error)
        _record_failure("rejected", error)
        return render_error(400, _("Sign-in could not be completed"),
                            _("Please start again from the home page."))
    next_path = safe_next_path(session.get(NEXT_KEY))
    user = record_sign_in(db(), identity)
    audit.record(db(), EVENT_SIGNIN, audit.SUCCESS, username=identity.username)
    db().commit()
    remember(user.id, identity)
    _link_to_directory_entry()
    log.info("signed in", extra={"user_id": user.id})
    return redirect(after_sign_in(identity, next_path))


def _link_to_directory_entry() -> None:
    """Name the new session's directory entry (web/account.py does it), so that a new password ends
    this session too; the entry is kept for the rest of the request (the registration check).

    An unreachable directory does not stop the sign-in: the first page that loads the account
    links the session then."""
    try:
        signed_in_user()
    except DirectoryUnavailable as error:
        log.warning("session not linked to its directory entry yet, directory unavailable: %s", error.detail)


def _record_failure(reason: str, error: SignInError) -> None:
    audit.record(db(), EVENT_SIGNIN, audit.FAILURE, reason=reason, details={"problem": str(error)[:200]})
    db().commit()


@bp.post("/signout")
def signout() -> Response:
    user = current_user()
    if user is not None:
        audit.record(db(), EVENT_SIGNOUT, audit.SUCCESS, username=user.username)
        db().commit()
    session.destroy()  # type: ignore[attr-defined]
    provider_logout = _oidc().logout_url(external_url("landing.index"))
    return redirect(provider_logout or url_for("landing.index"))
