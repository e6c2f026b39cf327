"""The signed-in person's directory account, looked up once per request.

Registration keys everything by the directory account (its id survives renames); the session
knows only the provider's username, so pages that act for the signed-in person resolve it here,
with `user_by_login`: the entry must carry that very name (case aside), so a signed-in
"straße" or "ｆｕｌｌ" never reaches "strasse" or "full" whatever the directory folds. Writes then
go by the entry's directory id. An unreachable directory or an account it does not know ends
the request with a clear page.
"""
from __future__ import annotations

import logging

from flask import abort, g, make_response, session
from flask_babel import gettext as _

from ..adapters.directory import DirectoryUnavailable, DirectoryUser
from ..services.container import collaborators
from .errors import render_error
from .identity import current_user

log = logging.getLogger(__name__)


def signed_in_user() -> DirectoryUser | None:
    """The directory account of the signed-in person, None when nobody (or no one entry) is
    theirs. Raises DirectoryUnavailable. Looked up once per request."""
    if "account" not in g:
        user = current_user()
        g.account = collaborators().directory.user_by_login(user.username) if user is not None else None
        if g.account is not None:  # sign-in links the session; this covers a directory that was down then
            session.belongs_to(g.account.directory_id)  # type: ignore[attr-defined]
    account: DirectoryUser | None = g.account
    return account


def signed_in_account() -> DirectoryUser:
    """The directory account of the signed-in person (a page decorated with sign_in_required)."""
    assert current_user() is not None, "use sign_in_required"
    try:
        account = signed_in_user()
    except DirectoryUnavailable as error:
        log.warning("directory unavailable while loading the signed-in account: %s", error.detail)
        abort(make_response(render_error(503, _("The directory is not available right now"),
                                         _("Please try again in a few minutes."))))
    if account is None or account.protected:
        abort(make_response(render_error(403, _("Your security info cannot be managed here"),
                                         _("Your account is not one this portal manages. "
                                           "Contact the help desk."))))
    return account


def account_groups(account: DirectoryUser) -> set[str]:
    """Groups from the directory and from the provider's claim: a member of either counts."""
    user = current_user()
    return set(account.groups) | set(user.groups if user else ())
