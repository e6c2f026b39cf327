"""The administration home: effective settings (secrets hidden), rollout scope and readiness."""
from __future__ import annotations

from flask import current_app, render_template

from ...services.container import collaborators
from ...services.reporting.overview import overview
from .blueprint import bp


@bp.get("")
def index() -> str:
    found = overview(collaborators(), current_app)
    return render_template("admin/index.html", rollout=found.rollout, checks=found.checks,
                           settings_rows=found.settings_rows)
