"""/helpdesk: agents (members of [helpdesk] groups, freshly signed in) check a caller, then reset or unlock.

Every route passes the staff-area guard (web/staff_area.py), and every request needs a sign-in at
most `helpdesk.recent_sign_in_minutes` old: the agent sees personal data from the first page on.
The session (kept on the server) holds whom the agent is handling, which method a code went to
and until when the caller's check counts: never a code, an address or a password. A reset or an
unlock needs a check passed for the same person, and ends it.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from .. import clock
from ..services.container import collaborators
from ..services.errors import DirectoryUnavailable
from ..services.helpdesk import desk
from ..services.identity.admin_access import is_member, record_access
from ..services.passwords.writes import AttemptNotRecorded
from ..services.proofs.codes import CodeCheck
from ..services.security.audit import REFUSED
from ..settings.helpdesk import RESET_LINK
from ..web.identity import current_user
from ..web.reauthentication import reauthenticate
from ..web.staff_area import guard

bp = Blueprint("helpdesk", __name__, url_prefix="/helpdesk")
REAUTH_ENDPOINT = "helpdesk.reauth"
EVENT_REFUSED = "helpdesk.refused"
STATE_KEY = "helpdesk"
MAX_QUERY_CHARS = 254

STATUS = {desk.NOT_FOUND: 404, desk.ADMINISTRATOR: 403, desk.OWN_ACCOUNT: 403, desk.RATE_LIMITED: 429}


def _messages() -> dict[str, str]:
    return {
        desk.NOT_FOUND: _("No account matches that name or email address."),
        desk.ADMINISTRATOR: _("This is an administrator's account. The help desk cannot handle it: "
                              "send the caller to IT security."),
        desk.OWN_ACCOUNT: _("This is your own account. Ask another agent, or use self-service reset."),
        desk.RATE_LIMITED: _("You have reached your hourly limit for this step. Please try again later."),
        "no_such_method": _("Choose one of the caller's methods."),
        "unavailable": _("Codes cannot be sent that way right now. Choose another method."),
        "no_password": _("No temporary password could be made that the password rules accept. Contact IT."),
        "not_verified": _("Check a code with the caller first."),
        desk.NOT_ELIGIBLE: _("This person cannot use self-service reset (outside its rollout, or not enough "
                             "registered methods), so a reset link would not work. Contact IT."),
    }


@bp.before_request
def _agents_only() -> ResponseReturnValue | None:
    return guard(collaborators().settings.helpdesk, reauth_endpoint=REAUTH_ENDPOINT, fresh=True,
                 back_to=url_for("helpdesk.index"), refused=_record_refusal)


def _record_refusal(username: str) -> None:
    record_access(collaborators(), EVENT_REFUSED, REFUSED, username=username, page=request.endpoint or "",
                  path=request.path, query="")


@bp.app_context_processor
def _helpdesk_link() -> dict[str, object]:
    """Whether the header links to /helpdesk: for exactly those the guard lets in (registered only
    when the area is served, so the link never leads to a 404)."""
    user = current_user()
    return {"show_helpdesk": user is not None and is_member(collaborators().settings.helpdesk, user.groups)}


def agent() -> str:
    user = current_user()
    assert user is not None  # the guard has run
    return user.username


def _state() -> dict[str, Any]:
    value = session.get(STATE_KEY)
    return dict(value) if isinstance(value, dict) else {}


def _verified(state: dict[str, Any]) -> bool:
    return isinstance(state.get("verified_until"), int) and state["verified_until"] > clock.timestamp()


def _page(error: str | None = None, status: int = 200, **extra: Any) -> ResponseReturnValue:
    """The desk: the search, and the person being handled (masked methods, the code, the actions)."""
    state, person = _state(), None
    if state.get("person") and error not in (desk.ADMINISTRATOR, desk.OWN_ACCOUNT, desk.NOT_FOUND):
        try:
            person = desk.current(collaborators(), agent(), state["person"])
        except desk.Refused as refused:
            session.pop(STATE_KEY, None)
            error, status = refused.reason, STATUS.get(refused.reason, 400)
    pending = desk.option(person, state["method"]) if person and state.get("method") in \
        {o.key for o in person.options} else None
    return render_template("helpdesk/index.html", person=person, pending=pending,
                           verified=person is not None and _verified(state), error=_messages().get(error or "", error),
                           query=request.form.get("query", ""), minutes=collaborators().settings.codes.valid_minutes,
                           link_mode=collaborators().settings.helpdesk.reset == RESET_LINK,
                           **extra), status


def _refused(refused: desk.Refused) -> ResponseReturnValue:
    if refused.reason in (desk.NOT_FOUND, desk.ADMINISTRATOR, desk.OWN_ACCOUNT):
        session.pop(STATE_KEY, None)
    return _page(refused.reason, STATUS.get(refused.reason, 400))


def _unavailable() -> ResponseReturnValue:
    return _page(_("The directory cannot be reached right now. Nothing was changed. Please try again in a few "
                   "minutes."), 503)


@bp.get("/")
def index() -> ResponseReturnValue:
    return _page()


@bp.post("/lookup")
def lookup() -> ResponseReturnValue:
    query = request.form.get("query", "").strip()[:MAX_QUERY_CHARS]
    if not query:
        return _page(_("Enter the caller's user name or email address."), 400)
    session.pop(STATE_KEY, None)  # a new caller: nothing checked for the last one carries over
    try:
        person = desk.look_up(collaborators(), agent(), query)
    except desk.Refused as refused:
        return _refused(refused)
    except DirectoryUnavailable:
        return _unavailable()
    session[STATE_KEY] = {"person": person.user.directory_id}
    return redirect(url_for("helpdesk.index"))


@bp.post("/send")
def send() -> ResponseReturnValue:
    state = _state()
    if not state.get("person"):
        return redirect(url_for("helpdesk.index"))
    try:
        chosen = desk.send(collaborators(), agent(), state["person"], request.form.get("method", ""),
                           request.remote_addr)
    except desk.Refused as refused:
        return _refused(refused)
    except DirectoryUnavailable:
        return _unavailable()
    session[STATE_KEY] = {"person": state["person"], "method": chosen.key}
    return redirect(url_for("helpdesk.index"))


@bp.post("/check")
def check() -> ResponseReturnValue:
    state = _state()
    if not state.get("person") or not state.get("method"):
        return redirect(url_for("helpdesk.index"))
    try:
        result = desk.check(collaborators(), agent(), state["person"], state["method"], request.form.get("code", ""))
    except desk.Refused as refused:
        return _refused(refused)
    except DirectoryUnavailable:
        return _unavailable()
    if result is not CodeCheck.VALID:
        if result is not CodeCheck.WRONG:  # spent, expired or missing: send a new one
            session[STATE_KEY] = {"person": state["person"]}
        return _page(_code_message(result), 400)
    until = clock.timestamp() + collaborators().settings.helpdesk.verified_minutes * 60
    session[STATE_KEY] = {"person": state["person"], "method": state["method"], "verified_until": until}
    return redirect(url_for("helpdesk.index"))


def _code_message(result: CodeCheck) -> str:
    if result is CodeCheck.WRONG:
        return _("That is not the code. Ask the caller to read it again.")
    if result is CodeCheck.SPENT:
        return _("Too many wrong codes: this code no longer works. Send a new one, or end the call.")
    return _("This code has expired or was replaced. Send a new one.")


@bp.post("/reset")
def reset() -> ResponseReturnValue:
    return _write(desk.reset)


@bp.post("/unlock")
def unlock() -> ResponseReturnValue:
    return _write(desk.unlock)


def _write(action: Any) -> ResponseReturnValue:
    state = _state()
    if not state.get("person") or not _verified(state):
        return _page("not_verified", 400)
    session.pop(STATE_KEY, None)  # one write per check, whatever its outcome
    try:
        result: desk.Result = action(collaborators(), agent(), state["person"])
    except desk.Refused as refused:
        return _page(refused.reason, STATUS.get(refused.reason, 400))
    except DirectoryUnavailable:
        return _unavailable()
    except AttemptNotRecorded:
        return _page(_("The portal could not record this change, so nothing was changed. Please try again."), 503)
    status = 200 if result.outcome in (desk.Written.DONE, desk.Written.PARTLY, desk.Written.LINK_SENT) else 502
    return render_template("helpdesk/done.html", result=result, unlock=action is desk.unlock), status


@bp.post("/end")
def end() -> ResponseReturnValue:
    """The call is over: forget the person and any check."""
    session.pop(STATE_KEY, None)
    return redirect(url_for("helpdesk.index"))


@bp.get("/reauth")
def reauth() -> ResponseReturnValue:
    """Ask the provider to sign the agent in again, then come back to the desk."""
    return reauthenticate(url_for("helpdesk.index"))
