"""Liveness and readiness for load balancers and monitoring."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

from ..extensions import limiter

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

Check = Callable[[], None]  # raises when the dependency is not usable


def add_readiness_check(app: Flask, name: str, check: Check) -> None:
    app.extensions.setdefault("readiness", {})[name] = check


@bp.get("/healthz")
@limiter.exempt
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


def readiness_checks(app: Flask) -> dict[str, Check]:
    return dict(app.extensions.get("readiness", {}))


def run_checks(checks: Mapping[str, Check]) -> dict[str, str | None]:
    """Each check's name -> None when it passed, else the kind of error (for the admin page)."""
    results: dict[str, str | None] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = None
        except Exception as error:  # noqa: BLE001 - a failed check is a result, not a crash
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            results[name] = type(error).__name__
    return results


@bp.get("/readyz")
@limiter.exempt
def readyz() -> ResponseReturnValue:
    results = {name: "ok" if error is None else "failed"
               for name, error in run_checks(readiness_checks(current_app)).items()}
    ready = all(v == "ok" for v in results.values())
    return jsonify(status="ready" if ready else "not ready", checks=results), 200 if ready else 503
