"""The administration home: effective settings (secrets hidden), rollout scope and readiness."""
from __future__ import annotations

from flask import current_app, render_template

from ...services.reporting.readiness import readiness_checks, run_checks, service_checks
from ...services.reporting.settings_view import effective_settings
from .blueprint import bp, settings


@bp.get("")
def index() -> str:
    return render_template("admin/index.html", rollout=settings().rollout,
                           checks=run_checks({**readiness_checks(current_app),
                                              **service_checks(current_app, settings())}),
                           settings_rows=effective_settings(settings()))
