"""The administration home: effective settings (secrets hidden), rollout scope and readiness, and the
deployment doctor, run on demand (it opens connections to every outside server, so not on each view)."""
from __future__ import annotations

from flask import current_app, render_template, request

from ...services.container import collaborators
from ...services.reporting.doctor import Finding, RequestView, diagnose
from ...services.reporting.overview import overview
from .blueprint import bp


@bp.get("")
def index() -> str:
    return _render()


@bp.post("/doctor")
def doctor() -> str:
    """The doctor with this request: what the proxy sends is compared with base_url."""
    seen = RequestView(scheme=request.scheme, host=request.host, remote_addr=request.remote_addr or "",
                       forwarded_for=request.headers.get("X-Forwarded-For"),
                       forwarded_proto=request.headers.get("X-Forwarded-Proto"))
    return _render(diagnose(collaborators(), seen=seen))


def _render(doctor: list[Finding] | None = None) -> str:
    found = overview(collaborators(), current_app)
    return render_template("admin/index.html", rollout=found.rollout, checks=found.checks,
                           settings_rows=found.settings_rows, doctor=doctor)
