"""Link mode: an action set to a URL in `[actions]` is someone else's page, so every route of its
built-in flow sends people there instead of serving a form that would still work.

A bookmark, an old mail or a form left open before the switch lands on the page that does the
job now (303 See Other, also for a POST: the browser fetches the URL, nothing is submitted and
nothing is written). What each combination serves (the app factory picks the blueprints):

- reset as a URL: `/reset` and everything under it redirect to that URL.
- change as a URL: `/change` and everything under it redirect to that URL.
- register as a URL: `/register...`, `/enforce...` and `/security-info/...` redirect to that
  URL. `/enforce` is registration's check for other applications; the portal cannot know what
  someone registered elsewhere, so it neither vouches for them nor sends them back to
  `return_to`: they end where registering is done now. The status API
  (`/api/v1/registration-status`) is not served (404): the portal holds no registrations.
- Sign-in (`/signin`, `/auth/callback`, `/signout`) exists only while something uses it: `[oidc]`
  is set and a built-in action or `/admin` remains (`Settings.serves_accounts`). It is required
  while register is built in (people sign in to register) or `[admin] groups` is set; reset and
  change also work signed out.
- `/admin` exists when sign-in and the directory both do, whatever the actions: administrators
  sign in, and its rollout scope, campaigns and reports read the directory. So `[admin] groups`
  requires `[oidc]` and `[directory]`. With every action a URL and no `[admin] groups` there is
  no `/admin` (404), no sign-in, and neither `[oidc]` nor `[directory]` is read: the portal is
  the branded landing page, its help texts and these redirects.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect
from flask.typing import ResponseReturnValue

from ..extensions import csrf
from ..settings import Settings

# an action -> the path prefixes of its built-in routes (tests/blueprints/test_link_mode.py
# checks these cover every route of the blueprints named beside them)
ROUTES = {
    "reset": ("/reset",),                                     # blueprint reset
    "change": ("/change",),                                   # blueprint change
    "register": ("/register", "/enforce", "/security-info"),  # blueprints register and enforce
}


def blueprint(settings: Settings) -> Blueprint | None:
    """The redirects for the actions set to a URL; None when every action is built in.

    A new blueprint per app: its rules depend on that app's settings."""
    external = [key for key in ROUTES if key not in settings.builtin_actions]
    if not external:
        return None
    bp = Blueprint("external", __name__)
    for key in external:
        view = _to(getattr(settings.actions, key))
        rules = [rule for prefix in ROUTES[key] for rule in (prefix, f"{prefix}/", f"{prefix}/<path:rest>")]
        for number, rule in enumerate(rules):
            bp.add_url_rule(rule, f"{key}_{number}", view, methods=["GET", "POST"])
    return bp


def _to(url: str) -> Callable[..., ResponseReturnValue]:
    # a redirect changes nothing: a form posted before the switch is sent on, not refused for CSRF
    @csrf.exempt
    def send_on(rest: str = "") -> ResponseReturnValue:
        return redirect(url, 303)
    return send_on
