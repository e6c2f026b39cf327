"""Sign-in and sign-out through the organization's OpenID Connect provider.

Both are on the audit trail (who signed in or out, from where; why a sign-in failed), never with
the authorization code, state or tokens: services/identity/sign_in.py records them.
"""
from __future__ import annotations

import logging

from flask import Blueprint, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..extensions import limiter
from ..services.container import collaborators
from ..services.identity import sign_in
from ..services.identity.redirects import safe_next_path
from ..web.errors import render_error
from ..web.identity import NEXT_KEY, current_user, remember
from ..web.registration_gate import after_sign_in, carried_over

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)


@bp.get("/signin")
@limiter.limit("30 per minute")
def signin() -> ResponseReturnValue:
    session[NEXT_KEY] = safe_next_path(request.args.get("next"))
    to_provider = sign_in.begin(collaborators())
    if to_provider is None:
        return render_error(503, _("Sign-in is not available right now"),
                            _("The sign-in service could not be reached. Please try again in a few minutes."))
    return to_provider


@bp.get("/auth/callback")
@limiter.limit("30 per minute")
def callback() -> ResponseReturnValue:
    signed_in = sign_in.complete(collaborators())
    if signed_in is None:
        return render_error(400, _("Sign-in could not be completed"),
                            _("It may have taken too long, or have been started at another address of this "
                              "portal. Please start again from the home page."))
    next_path = safe_next_path(session.get(NEXT_KEY))
    resume = carried_over(signed_in.identity.username)
    remember(signed_in.user_id, signed_in.identity)
    log.info("signed in", extra={"user_id": signed_in.user_id})
    return redirect(after_sign_in(signed_in.identity, next_path, resume))


@bp.post("/signout")
def signout() -> ResponseReturnValue:
    user = current_user()
    provider_logout = sign_in.sign_out(collaborators(), user.username if user else None)
    session.destroy()  # type: ignore[attr-defined]
    return redirect(provider_logout or url_for("landing.index"))
