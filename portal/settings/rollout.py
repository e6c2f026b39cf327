"""Who may use self-service reset while it is rolled out: nobody, a pilot group, or everybody."""
from __future__ import annotations

from dataclasses import dataclass

from . import checks
from .engine import setting

SCOPES = ("nobody", "group", "everybody")


@dataclass(frozen=True, kw_only=True)
class RolloutSettings:
    reset: str = setting("nobody", check=checks.one_of(SCOPES))
    groups: list[str] = setting([], check=checks.each(checks.non_empty))


def cross_checks(settings: RolloutSettings) -> list[tuple[str, str]]:
    if settings.reset == "group" and not settings.groups:
        return [("rollout.groups", "must name at least one group when rollout.reset = \"group\"")]
    return []
