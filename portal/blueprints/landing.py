"""The landing page: the three things people come for, and the theme's own information."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..services.container import collaborators
from ..services.messaging.links import available_actions

bp = Blueprint("landing", __name__)


@bp.get("/")
def index() -> str:
    # sign-in is offered only where something uses it (blueprints/external.py)
    return render_template("landing.html", actions=available_actions(collaborators().settings),
                           sign_in_offered="auth.signin" in current_app.view_functions)
