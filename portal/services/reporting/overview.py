"""The administration home: the rollout, every readiness check run now, and the effective settings."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from ...settings.rollout import RolloutSettings
from ..container import Collaborators
from .readiness import readiness_checks, run_checks, service_checks
from .settings_view import effective_settings


@dataclass(frozen=True)
class Overview:
    rollout: RolloutSettings
    checks: dict[str, str | None]         # check name -> None when it passed, else the kind of error
    settings_rows: list[tuple[str, str]]  # dotted key, value as text (secrets hidden)


def overview(c: Collaborators, app: Flask) -> Overview:
    """`app` holds the checks /readyz runs; the outside services' checks are run beside them."""
    checks = run_checks({**readiness_checks(app), **service_checks(c)})
    return Overview(c.settings.rollout, checks, effective_settings(c.settings))
