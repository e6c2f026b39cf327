"""/reset: someone who forgot their password proves who they are and chooses a new one, signed out.

Steps: identify (login name or email) -> verify (as many methods as their policy needs) -> new
password (or unlock) -> the directory's answer. The state of every step is a database row bound
to this browser's session and to the account found at the first step (services/reset/flows.py);
after that step the account is never taken from the request again. Each request is one step of
services/reset/steps.py; this module reads the request and the session and renders the result.

Until a method has passed, every answer is the same for every name: same pages, statuses,
cookies and redirects, each held to [reset] min_response_ms. Limits are per IP (the limiter)
and per account (budgets and the guard, every alias counted together).
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..extensions import limiter
from ..services.container import collaborators
from ..services.errors import DirectoryUnavailable
from ..services.proofs.methods import label
from ..services.reset import steps
from ..services.reset.accounts import SignedIn
from ..services.reset.flows import SESSION_KEY, Binding, FlowError
from ..services.reset.identifiers import InvalidIdentifier
from ..services.reset.verification import Check
from ..services.security import challenge
from ..services.security.crypto import app_secret
from ..services.reset.writer import PASSWORD_MAY_HAVE_CHANGED, Written
from ..web import fields
from ..web.identity import current_user
from ..web.pacing import paced
from ..web.passkeys import relying_party

bp = Blueprint("reset", __name__, url_prefix="/reset")

INTENT_KEY = "reset_intent"  # what the person chose at identify: "reset", or "unlock" (they know the password)
UNLOCK = "unlock"


@bp.context_processor
def _intent() -> dict[str, str]:
    """Every reset page names its last step after the person's choice at identify (never the account's state)."""
    return {"intent": session.get(INTENT_KEY, "reset")}


def _chosen_intent() -> str:
    """ "unlock" only when unlocking is allowed here; anything else is a reset."""
    wanted = request.form.get("intent", "")
    return UNLOCK if wanted == UNLOCK and collaborators().settings.reset.allow_unlock else "reset"


def _binding() -> Binding | None:
    return Binding.from_session(session.get(SESSION_KEY))


def _signed_in() -> SignedIn | None:
    """The provider's view of who is signed in here, if anyone: their groups count for the scope."""
    user = current_user()
    return SignedIn(user.username, frozenset(user.groups)) if user else None


def _identify_limit() -> str:
    return f"{collaborators().settings.reset.identify_per_ip_per_hour} per hour"


def _verify_limit() -> str:
    return f"{collaborators().settings.reset.verify_per_ip_per_hour} per hour"


def _challenge() -> str | None:
    """The proof-of-work this address must solve on the next identify / send-code, or None.

    It depends on the address only, never on the account, so every account gets the same page."""
    settings = collaborators().settings.reset.challenge
    return challenge.issue(settings, app_secret()) if challenge.needed(settings, request.remote_addr) else None


def _challenge_refused() -> bool:
    """Count this identify / send-code attempt against its address; True when it needed a solved
    challenge and brought none that is valid, unexpired and unused."""
    over = challenge.counted_over(collaborators().settings.reset.challenge, request.remote_addr)
    return over and not challenge.accept(app_secret(), request.form.get(challenge.FIELD, ""))


def _go(step: steps.Step) -> ResponseReturnValue:
    return redirect(url_for(f"reset.{step.value}"), 303)


# -- errors that end or refuse a step ------------------------------------------------------------

@bp.errorhandler(FlowError)
def _flow_error(error: FlowError) -> ResponseReturnValue:
    """The same page for every refusal; the trail names the flow's account when this browser has one."""
    steps.step_refused(collaborators(), _binding(), error.reason, request.endpoint or "")
    return render_template("reset/ended.html", reason=error.reason), 409


@bp.errorhandler(DirectoryUnavailable)
def _directory_down(error: DirectoryUnavailable) -> ResponseReturnValue:
    steps.directory_unavailable(collaborators(), error.code, request.endpoint or "")
    return render_template("reset/unavailable.html", directory_down=True), 503


# -- (a) identify --------------------------------------------------------------------------------

@bp.get("/")
def start() -> ResponseReturnValue:
    offer = steps.offer(collaborators(), _signed_in())
    if offer is not steps.Offer.OFFERED:
        return render_template("reset/unavailable.html", directory_down=False,
                               not_for_you=offer is steps.Offer.NOT_FOR_YOU)
    return _start_page()


def _start_page(typed: str = "", error: str | None = None, *, refused: bool = False) -> ResponseReturnValue:
    again = bool(error) or refused
    return render_template("reset/start.html", typed=typed, error=error, intent=_chosen_intent() if again else "reset",
                           unlock_offered=collaborators().settings.reset.allow_unlock,
                           challenge=_challenge(), challenge_refused=refused), 400 if again else 200


@bp.post("/")
@limiter.limit(_identify_limit)
@paced
def identify() -> ResponseReturnValue:
    typed = request.form.get("identifier", "")
    if _challenge_refused():
        return _start_page(typed, refused=True)
    try:
        identified = steps.identify(collaborators(), typed, previous=_binding(), signed_in=_signed_in())
    except InvalidIdentifier as error:
        return _start_page(typed, str(error.message))
    if not identified.offered:
        return render_template("reset/unavailable.html", directory_down=False)
    if identified.binding is None:
        return render_template("reset/paused.html"), 429
    session[SESSION_KEY] = identified.binding.to_session()
    session[INTENT_KEY] = _chosen_intent()
    return _go(steps.Step.VERIFY)


# -- (b) verify ----------------------------------------------------------------------------------

@bp.get("/verify")
def verify() -> ResponseReturnValue:
    return _verify_page()


def _verify_page(*, refused: bool = False) -> ResponseReturnValue:
    page = steps.verify_page(collaborators(), _binding(), _signed_in())
    if isinstance(page, steps.Step):
        return _go(page)
    return render_template("reset/verify.html", choices=page.choices, first=page.first, label=label,
                           challenge=_challenge(), challenge_refused=refused), 400 if refused else 200


@bp.post("/verify")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
@paced
def choose() -> ResponseReturnValue:
    if _challenge_refused():
        return _verify_page(refused=True)
    chosen = steps.choose(collaborators(), _binding(), request.form.get("method", ""), ip=request.remote_addr,
                          signed_in=_signed_in())
    if chosen.refused is steps.Refused.PAUSED:
        return _paused()
    if chosen.refused is steps.Refused.THROTTLED:
        return render_template("reset/verify.html", choices=[], first=chosen.first, label=label,
                               throttled=True), 429
    assert chosen.next is not None
    return _go(chosen.next)


@bp.get("/code")
def code() -> ResponseReturnValue:
    return _code_page(steps.code_page(collaborators(), _binding(), _signed_in()))


def _code_page(page: steps.CodePage, error: str | None = None) -> ResponseReturnValue:
    return render_template("reset/code.html", kind=page.kind, masked=page.masked, minutes=page.minutes,
                           error=error), 400 if error else 200


@bp.post("/code")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
@paced
def check_code() -> ResponseReturnValue:
    return _checked(steps.check_code(collaborators(), _binding(), request.form.to_dict(), _signed_in()))


@bp.get("/questions")
def questions() -> ResponseReturnValue:
    return _questions_page(steps.questions_page(collaborators(), _binding()))


def _questions_page(page: steps.QuestionsPage, error: str | None = None) -> ResponseReturnValue:
    """After a wrong answer, the answers typed stay in their fields: the person corrects one, not all."""
    typed = {f"answer-{q.key}": request.form.get(f"answer-{q.key}", "") for q in page.questions} if error else {}
    return render_template("reset/questions.html", questions=page.questions, error=error,
                           typed=typed), 400 if error else 200


@bp.post("/questions")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
@paced
def check_answers() -> ResponseReturnValue:
    return _checked(steps.check_answers(collaborators(), _binding(), request.form.to_dict(), _signed_in()))


@bp.get("/passkey")
def passkey() -> ResponseReturnValue:
    return _passkey_page(steps.passkey_page(collaborators(), _binding(), relying_party()))


def _passkey_page(page: steps.PasskeyPage, error: str | None = None) -> ResponseReturnValue:
    return render_template("reset/passkey.html", options=page.options, error=error), 400 if error else 200


@bp.post("/passkey")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
@paced
def check_passkey() -> ResponseReturnValue:
    return _checked(steps.check_passkey(collaborators(), _binding(), request.form.to_dict(), relying_party(),
                                        _signed_in()))


def _checked(checked: steps.Checked) -> ResponseReturnValue:
    """On failure the same page again, with the one message every name gets."""
    if checked.outcome is Check.PAUSED:
        return _paused()
    if checked.page is None:
        assert checked.next is not None
        return _go(checked.next)
    wrong = _("That is not right, or it has expired. Check and try again, "
              "or choose another way to verify.")
    if isinstance(checked.page, steps.CodePage):
        return _code_page(checked.page, wrong)
    if isinstance(checked.page, steps.PasskeyPage):
        return _passkey_page(checked.page, wrong)
    return _questions_page(checked.page, wrong)


def _paused() -> ResponseReturnValue:
    """The account's reset is paused: this browser's flow has ended (the same page for every name)."""
    session.pop(SESSION_KEY, None)
    return render_template("reset/paused.html", notified=True), 429


# -- (c) new password, (d) write -----------------------------------------------------------------

@bp.get("/password")
def password() -> ResponseReturnValue:
    return _password_page(steps.password_page(collaborators(), _binding(), _signed_in()))


def _password_page(page: steps.PasswordPage, *, errors: list[str] | None = None,
                   status: int = 200) -> ResponseReturnValue:
    return render_template("reset/password.html", rules=page.rules, errors=errors or [],
                           can_unlock=page.can_unlock), status


@bp.post("/password")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
def set_password() -> ResponseReturnValue:
    try:
        new, again = (fields.password(request.form.get(name)) for name in ("new_password", "new_password_again"))
        if new != again:
            raise fields.InvalidField(_("The two passwords are not the same. Type the new one twice."))
    except fields.InvalidField as error:
        page = steps.password_page(collaborators(), _binding(), _signed_in())
        return _password_page(page, errors=[error.message], status=400)
    return _written(steps.write(collaborators(), _binding(), new, _signed_in()), unlock=False)


@bp.post("/unlock")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
def unlock() -> ResponseReturnValue:
    return _written(steps.write(collaborators(), _binding(), None, _signed_in()), unlock=True)


def _written(wrote: steps.Wrote, *, unlock: bool) -> ResponseReturnValue:
    result = wrote.result
    if not unlock and result.outcome in PASSWORD_MAY_HAVE_CHANGED:
        session.rotate()  # type: ignore[attr-defined]  # the person's signed-in sessions were ended
    if wrote.page is not None:
        errors = [v.message for v in result.violations] or [result.message or ""]
        return _password_page(wrote.page, errors=errors, status=400 if result.outcome is Written.REJECTED else 503)
    status = {Written.DONE: 200, Written.STILL_LOCKED: 200, Written.UNKNOWN: 502, Written.REFUSED: 403}
    return render_template("reset/result.html", outcome=result.outcome.value, unlock=unlock,
                           message=result.message), status[result.outcome]


@bp.post("/cancel")
def cancel() -> ResponseReturnValue:
    steps.cancel(collaborators(), _binding())
    session.pop(SESSION_KEY, None)
    session.pop(INTENT_KEY, None)
    return redirect(url_for("landing.index"), 303)


# -- a help desk's link: verified already --------------------------------------------------------

@bp.get("/link/<flow_id>/<key>")
def link(flow_id: str, key: str) -> ResponseReturnValue:
    """A page with a button, not the claim itself: mail scanners that open links must not use it up."""
    return render_template("reset/link.html", flow_id=flow_id, key=key)


@bp.post("/link/<flow_id>/<key>")
@limiter.shared_limit(_verify_limit, scope="reset-verify")
def claim_link(flow_id: str, key: str) -> ResponseReturnValue:
    binding = steps.claim_link(collaborators(), Binding(flow_id, key))
    session[SESSION_KEY] = binding.to_session()
    session.pop(INTENT_KEY, None)
    return redirect(url_for("reset.password"), 303)
