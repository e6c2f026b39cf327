"""The landing page: the three things people come for, and the theme's own information."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..services.container import collaborators
from ..services.messaging.links import available_actions
from ..web.identity import sign_in_offered

bp = Blueprint("landing", __name__)


@bp.get("/")
def index() -> str:
    return render_template("landing.html", actions=available_actions(collaborators().settings),
                           sign_in_offered=sign_in_offered())
