"""The signed-in person's directory account, looked up once per request.

Registration keys everything by the directory account (its id survives renames); the session
knows only the provider's username, so pages that change security info resolve it here. An
unreachable directory or an account it does not know ends the request with a clear page.
"""
from __future__ import annotations

import logging

from flask import abort, g, make_response, session
from flask_babel import gettext as _

from ..adapters.directory import DirectoryUnavailable, DirectoryUser, directory_for
from .errors import render_error
from .identity import current_user

log = logging.getLogger(__name__)


def signed_in_account() -> DirectoryUser:
    """The directory account of the signed-in person (a page decorated with sign_in_required)."""
    if "account" not in g:
        user = current_user()
        assert user is not None, "use sign_in_required"
        try:
            g.account = directory_for().find_user(user.username)
        except DirectoryUnavailable as error:
            log.warning("directory unavailable while loading the signed-in account: %s", error.detail)
            abort(make_response(render_error(503, _("The directory is not available right now"),
                                             _("Please try again in a few minutes."))))
        if g.account is not None:  # sign-in links the session; this covers a directory that was down then
            session.belongs_to(g.account.directory_id)  # type: ignore[attr-defined]
        if g.account is None or g.account.protected:
            abort(make_response(render_error(403, _("Your security info cannot be managed here"),
                                             _("Your account is not one this portal manages. "
                                               "Contact the help desk."))))
    return g.account


def account_groups(account: DirectoryUser) -> set[str]:
    """Groups from the directory and from the provider's claim: a member of either counts."""
    user = current_user()
    return set(account.groups) | set(user.groups if user else ())
