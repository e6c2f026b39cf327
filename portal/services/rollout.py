"""Is self-service reset enabled for this person? One answer for every flow, report and campaign.

Group names match case-insensitively, whether they come from the directory (memberOf, nested in
AD) or from the provider's groups claim: admins type "SSPR-Pilot" and directories answer "sspr-pilot".
"""
from __future__ import annotations

from collections.abc import Iterable

from ..settings.rollout import RolloutSettings


def reset_enabled_for(settings: RolloutSettings, groups: Iterable[str]) -> bool:
    if settings.reset == "everybody":
        return True
    if settings.reset == "nobody":
        return False
    wanted = {g.casefold() for g in settings.groups}
    return any(g.casefold() in wanted for g in groups)
