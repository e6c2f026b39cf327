"""The landing page: the three things people come for, and the theme's own information."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale

from ..services.container import collaborators
from ..services.messaging.links import Action, available_actions
from ..web.identity import sign_in_offered

bp = Blueprint("landing", __name__)

CACHE = "landing_actions"  # the app's extensions key: (language, script root) -> actions


@bp.get("/")
def index() -> str:
    return render_template("landing.html", actions=_actions(), sign_in_offered=sign_in_offered())


def _actions() -> tuple[Action, ...]:
    """The actions, worked out once per language and per path the portal is mounted under.

    They follow from the settings and the routes, both fixed at start-up, from the language
    (their titles) and from the script root (their links), so those two are the key. The theme,
    which [hosts] chooses per request, is not part of them: the page takes each description from
    its own theme by `description_key`, so one list serves every host and none shows another's."""
    cache: dict[tuple[str, str], tuple[Action, ...]] = current_app.extensions.setdefault(CACHE, {})
    key = (str(get_locale()), request.script_root)
    actions = cache.get(key)
    if actions is None:  # two threads may both work it out once: the same answer either way
        actions = cache[key] = tuple(available_actions(collaborators().settings))
    return actions
