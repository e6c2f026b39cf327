"""Liveness and readiness for load balancers and monitoring."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from ..extensions import limiter
from ..services.reporting.readiness import readiness_checks, run_checks

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz() -> ResponseReturnValue:
    results = {name: "ok" if error is None else "failed"
               for name, error in run_checks(readiness_checks(current_app)).items()}
    ready = all(v == "ok" for v in results.values())
    return jsonify(status="ready" if ready else "not ready", checks=results), 200 if ready else 503
