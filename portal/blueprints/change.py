"""/change: people who know their password choose a new one, signed in or with their login name.

Signed in through the provider, the account is the signed-in person's; signed out, it is the
login name typed, and a name that matches nobody gets exactly the "wrong password" answer.
The portal's rules are shown before typing and checked again, after the current password.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..extensions import limiter
from ..services.container import collaborators
from ..services.errors import DirectoryUnavailable
from ..services.messaging.links import action_url
from ..services.passwords.change import PASSWORD_MAY_HAVE_CHANGED, Changed, SignedInAccount, change_password
from ..services.reset.identifiers import InvalidIdentifier
from ..web import fields
from ..web.account import signed_in_user
from ..web.identity import current_user
from ..web.pacing import paced

bp = Blueprint("change", __name__, url_prefix="/change")

STATUS = {Changed.WRONG_PASSWORD: 400, Changed.THROTTLED: 429, Changed.REJECTED: 400, Changed.EXPIRED: 400,
          Changed.LOCKED: 403, Changed.UNAVAILABLE: 503, Changed.UNKNOWN: 502, Changed.REFUSED: 403}


def _limit() -> str:
    return f"{collaborators().settings.change.per_ip_per_hour} per hour"


def _form(errors: list[str] | None = None, status: int = 200, field: str = "new_password") -> ResponseReturnValue:
    """The form; after an error, the summary links to `field` and the login name typed stays (never a password)."""
    c = collaborators()
    settings, rules = c.settings, c.password_rules.checklist()
    return render_template("change/index.html", rules=rules, errors=errors or [], error_field=field,
                           login=request.form.get("login", ""), signed_in=current_user(),
                           reset_url=action_url(settings, "reset")), status


@bp.get("/")
def index() -> ResponseReturnValue:
    return _form()


@bp.post("/")
@limiter.limit(_limit)
@paced
def submit() -> ResponseReturnValue:
    try:  # before the account is looked up: the same answer for every login name
        current, new, again = (fields.password(request.form.get(name))
                               for name in ("current_password", "new_password", "new_password_again"))
        if not current or new != again:
            raise fields.InvalidField(_("Type your current password, and the new one twice (both the same)."))
    except fields.InvalidField as error:
        return _form([error.message], 400, "current_password" if not request.form.get("current_password")
                     else "new_password")
    try:
        result = change_password(collaborators(), signed_in=_signed_in(), login=request.form.get("login", ""),
                                 current=current, new=new)
    except InvalidIdentifier as error:
        return _form([str(error.message)], 400, "login")
    except DirectoryUnavailable:
        return _form([_("The directory cannot be reached right now. Nothing was changed. "
                        "Please try again in a few minutes.")], 503)
    if result.outcome in PASSWORD_MAY_HAVE_CHANGED:
        session.rotate()  # type: ignore[attr-defined]  # the person's other sessions were ended
    if result.outcome is Changed.DONE:
        return render_template("change/done.html")
    return _form(_messages(result.outcome, result.message, [v.message for v in result.violations]),
                 STATUS[result.outcome], _field(result.outcome))


def _signed_in() -> SignedInAccount | None:
    """Who is signed in here, with the directory entry that carries their username (web/account.py).
    Raises DirectoryUnavailable."""
    user = current_user()
    return SignedInAccount(user.username, signed_in_user()) if user is not None else None


def _field(outcome: Changed) -> str:
    """The field the error summary points to: the one to correct first."""
    if outcome is Changed.REJECTED:
        return "new_password"
    return "current_password" if current_user() is not None else "login"


def _messages(outcome: Changed, message: str | None, violations: list[str]) -> list[str]:
    if violations:
        return violations
    if outcome is Changed.WRONG_PASSWORD:
        return [_("The user name or current password is not correct.") if current_user() is None
                else _("The current password is not correct.")]
    if outcome is Changed.THROTTLED:
        minutes = collaborators().settings.change.wrong_password_window_minutes
        return [_("Too many wrong passwords for this account. For its protection, please wait %(minutes)d "
                  "minutes, or reset your password instead.", minutes=minutes)]
    return [message or _("Your password could not be changed. Please contact the help desk.")]
