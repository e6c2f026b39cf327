"""The help desk (/helpdesk): who the agents are, how they reset, and how much each may do per hour."""
from __future__ import annotations

from dataclasses import dataclass

from . import checks
from .admin import StaffAreaSettings
from .engine import setting

RESET_LINK = "link"
RESET_TEMPORARY_PASSWORD = "temporary_password"
RESET_KINDS = (RESET_LINK, RESET_TEMPORARY_PASSWORD)


@dataclass(frozen=True, kw_only=True)
class HelpdeskSettings(StaffAreaSettings):
    # what "reset" gives the caller: a one-time link by mail into the reset flow, verified already
    # (needs the built-in reset and mail), or a generated password to change at next sign-in
    reset: str = setting(RESET_TEMPORARY_PASSWORD, check=checks.one_of(RESET_KINDS))
    # how long a caller's passed check lets the agent reset or unlock, before they must check again
    verified_minutes: int = setting(10, check=checks.between(1, 60))
    lookups_per_hour: int = setting(60, check=checks.between(1, 10000))
    codes_per_hour: int = setting(20, check=checks.between(1, 1000))
    resets_per_hour: int = setting(10, check=checks.between(1, 1000))


def cross_checks(settings: HelpdeskSettings, *, builtin_reset: bool, mail_configured: bool) -> list[tuple[str, str]]:
    """A link leads into the built-in reset and travels by mail: without either it could not work."""
    if not settings.groups or settings.reset != RESET_LINK or (builtin_reset and mail_configured):
        return []
    needs = " and ".join(need for need, there in (("[actions] reset = \"builtin\"", builtin_reset),
                                                  ("[mail]", mail_configured)) if not there)
    return [("helpdesk.reset", f"\"link\" needs {needs}; or use \"{RESET_TEMPORARY_PASSWORD}\"")]
