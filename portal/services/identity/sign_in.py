"""Signing in and out through the provider, each on the audit trail.

Who signed in or out goes on record, and so does why a sign-in failed, in words (the provider's
answer), never with the authorization code, state or tokens. Each step writes in a transaction of
its own; the session (who the browser is now) is the web layer's to change afterwards.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Response

from ..container import Collaborators
from ..messaging.links import external_url
from ..security import audit
from .oidc import Identity, SignInError
from .users import record_sign_in

log = logging.getLogger(__name__)
EVENT_SIGNIN = "auth.signin"
EVENT_SIGNOUT = "auth.signout"


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    identity: Identity


def begin(c: Collaborators) -> Response | None:
    """The redirect to the provider, which is to send the person back to the callback on this
    request's host (its configured base URL); None when it cannot be reached (on record)."""
    try:
        return c.oidc.redirect(external_url("auth.callback"))
    except SignInError as error:
        log.warning("sign-in could not start: %s", error)
        _record_failure(c, "provider_unavailable", error)
        return None


def complete(c: Collaborators) -> SignedIn | None:
    """Finish the callback request's sign-in and remember the person; None when the provider's
    answer is refused (on record, with the reason)."""
    try:
        identity = c.oidc.complete()
    except SignInError as error:
        log.warning("sign-in rejected: %s", error)
        _record_failure(c, "rejected", error)
        return None
    with c.store.transaction() as db:
        user = record_sign_in(db, identity)
        audit.record(db, EVENT_SIGNIN, audit.SUCCESS, username=identity.username)
        return SignedIn(user.id, identity)


def sign_out(c: Collaborators, username: str | None) -> str | None:
    """Put the sign-out on record (`username`: None when nobody was signed in); the provider's
    end-session URL to continue at, when it has one."""
    if username is not None:
        with c.store.transaction() as db:
            audit.record(db, EVENT_SIGNOUT, audit.SUCCESS, username=username)
    return c.oidc.logout_url(external_url("landing.index"))


def _record_failure(c: Collaborators, reason: str, error: SignInError) -> None:
    with c.store.transaction() as db:
        audit.record(db, EVENT_SIGNIN, audit.FAILURE, reason=reason, details={"problem": str(error)[:200]})
