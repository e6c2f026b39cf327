"""The landing page: the three things people come for, and the theme's own information."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..services.messaging.links import available_actions

bp = Blueprint("landing", __name__)


@bp.get("/")
def index() -> str:
    return render_template("landing.html", actions=available_actions(current_app.extensions["settings"]))
