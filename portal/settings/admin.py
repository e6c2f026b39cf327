"""Who may open the staff areas (/admin, /helpdesk), and how fresh their sign-in must be."""
from __future__ import annotations

from dataclasses import dataclass

from . import checks
from .engine import setting


@dataclass(frozen=True, kw_only=True)
class StaffAreaSettings:
    """A part of the portal for members of some groups, with a fresh sign-in for what it guards."""

    # Names in the provider's groups claim of the CURRENT sign-in (not the directory, not the
    # database): removing someone from the group at the provider ends their access at next sign-in.
    groups: list[str] = setting([], check=checks.each(checks.non_empty))
    recent_sign_in_minutes: int = setting(15, check=checks.between(1, 120))


@dataclass(frozen=True, kw_only=True)
class AdminSettings(StaffAreaSettings):
    """/admin: settings, rollout, campaigns, reports, the audit log."""
