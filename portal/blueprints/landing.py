"""The landing page: the three things people come for, and the theme's own information."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale

from ..branding import current_theme
from ..services.container import collaborators
from ..services.messaging.links import Action, available_actions
from ..web.identity import sign_in_offered

bp = Blueprint("landing", __name__)

CACHE = "landing_actions"  # the app's extensions key: (theme, language, script root) -> actions


@bp.get("/")
def index() -> str:
    return render_template("landing.html", actions=_actions(), sign_in_offered=sign_in_offered())


def _actions() -> tuple[Action, ...]:
    """The actions, worked out once per theme, language and path the portal is mounted under.

    They follow from the settings and the routes, both fixed at start-up, from the language and
    the theme (their titles: a theme may word them its own way, branding/catalogues.py) and from
    the script root (their links), so those three are the key. The page takes each description
    from its own theme by `description_key`."""
    cache: dict[tuple[str, str, str], tuple[Action, ...]] = current_app.extensions.setdefault(CACHE, {})
    key = (current_theme().name, str(get_locale()), request.script_root)
    actions = cache.get(key)
    if actions is None:  # two threads may both work it out once: the same answer either way
        actions = cache[key] = tuple(available_actions(collaborators().settings))
    return actions
