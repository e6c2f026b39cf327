"""The guard of a group-gated area with a fresh sign-in (/admin, /helpdesk), run before each request.

The person must be signed in, their CURRENT sign-in's groups claim must name one of the area's
groups, and what the area guards needs a sign-in at most `recent_sign_in_minutes` old, else the
provider is asked to sign them in again (the area's reauth endpoint, which the guard lets through).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from .. import clock
from ..services.identity.admin_access import is_member, signed_in_recently
from ..settings.admin import StaffAreaSettings
from .identity import current_user

log = logging.getLogger(__name__)


def guard(area: StaffAreaSettings, *, reauth_endpoint: str, fresh: bool, back_to: str,
          refused: Callable[[str], None]) -> ResponseReturnValue | None:
    """None when the request may go on; else the sign-in redirect, a 403 (after `refused(username)`
    put it on record) or the redirect to sign in again, coming back to `back_to`.
    `fresh`: whether this request needs a recent sign-in."""
    user = current_user()
    if user is None:
        return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
    if not is_member(area, user.groups):
        log.warning("staff area refused", extra={"username": user.username, "path": request.path})
        refused(user.username)
        abort(403)
    if fresh and request.endpoint != reauth_endpoint \
            and not signed_in_recently(area, user.auth_time, clock.utcnow()):
        return redirect(url_for(reauth_endpoint, next=back_to))
    return None
