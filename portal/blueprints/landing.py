"""The landing page: the three things people come for, and the theme's own information."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l

from ..settings import ACTION_BUILTIN, Settings

bp = Blueprint("landing", __name__)


@dataclass(frozen=True)
class Action:
    key: str
    title: str
    description_key: str
    url: str
    external: bool


# settings key -> (title, theme text with its description, endpoint of the built-in flow)
ACTIONS = (
    ("reset", _l("Reset my password"), "reset_description", "reset.start"),
    ("register", _l("Register or update my security info"), "register_description", "register.index"),
    ("change", _l("Change my password"), "change_description", "change.index"),
)


def available_actions(settings: Settings) -> list[Action]:
    """Actions pointing at an external URL, or at a built-in flow this portal actually has."""
    actions = []
    for key, title, description_key, endpoint in ACTIONS:
        target = getattr(settings.actions, key)
        if target == ACTION_BUILTIN and key == "reset" and settings.rollout.reset == "nobody":
            continue  # not rolled out yet: no link to a flow that would only send people away
        if target != ACTION_BUILTIN:
            actions.append(Action(key, str(title), description_key, target, external=True))
        elif endpoint in current_app.view_functions:
            actions.append(Action(key, str(title), description_key, url_for(endpoint), external=False))
    return actions


@bp.get("/")
def index() -> str:
    return render_template("landing.html", actions=available_actions(current_app.extensions["settings"]))
