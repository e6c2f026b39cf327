"""Is self-service reset enabled for this person? One answer for every flow, report and campaign.

Group names match case-insensitively, whether they come from the directory (memberOf, nested in
AD) or from the provider's groups claim: admins type "SSPR-Pilot" and directories answer "sspr-pilot".
"""
from __future__ import annotations

from collections.abc import Iterable

from ...settings.rollout import RolloutSettings


def reset_enabled_for(settings: RolloutSettings, groups: Iterable[str]) -> bool:
    if settings.reset == "everybody":
        return True
    if settings.reset == "nobody":
        return False
    return member_of_any(groups, settings.groups)


def member_of_any(groups: Iterable[str], wanted: Iterable[str]) -> bool:
    """Whether any of `groups` is one of `wanted`, compared the way directories compare names."""
    folded = {g.casefold() for g in wanted}
    return any(g.casefold() in folded for g in groups)
