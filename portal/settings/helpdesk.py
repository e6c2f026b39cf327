"""The help desk (/helpdesk): who the agents are, how they reset, and how much each may do per hour."""
from __future__ import annotations

from dataclasses import dataclass

from . import checks
from .admin import StaffAreaSettings
from .engine import setting

RESET_TEMPORARY_PASSWORD = "temporary_password"
RESET_KINDS = (RESET_TEMPORARY_PASSWORD,)


@dataclass(frozen=True, kw_only=True)
class HelpdeskSettings(StaffAreaSettings):
    # what "reset" gives the caller: a generated password the directory makes them change at next sign-in
    reset: str = setting(RESET_TEMPORARY_PASSWORD, check=checks.one_of(RESET_KINDS))
    # how long a caller's passed check lets the agent reset or unlock, before they must check again
    verified_minutes: int = setting(10, check=checks.between(1, 60))
    lookups_per_hour: int = setting(60, check=checks.between(1, 10000))
    codes_per_hour: int = setting(20, check=checks.between(1, 1000))
    resets_per_hour: int = setting(10, check=checks.between(1, 1000))
