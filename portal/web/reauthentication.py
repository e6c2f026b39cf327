"""Send a signed-in person to the provider to sign in again, whatever its single sign-on says.

Pages that change something sensitive (security info, administration) ask for a fresh sign-in:
`max_age=0` makes the provider prompt, and the callback refuses an ID token whose auth_time is
older than the request (see OidcSignIn.complete). Afterwards the callback continues at `next_path`.
"""
from __future__ import annotations

from flask import session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..services.container import collaborators
from ..services.identity.oidc import SignInError
from ..services.messaging.links import external_url
from .errors import render_error
from .identity import NEXT_KEY


def reauthenticate(next_path: str) -> ResponseReturnValue:
    session[NEXT_KEY] = next_path
    try:
        return collaborators().oidc.redirect(external_url("auth.callback"), max_age=0)
    except SignInError:
        return render_error(503, _("Sign-in is not available right now"),
                            _("The sign-in service could not be reached. Please try again in a few minutes."))
