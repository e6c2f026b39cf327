"""Mail the portal sends to many people at once: adoption campaigns and password-expiry reminders."""
from __future__ import annotations

from dataclasses import dataclass

from . import checks
from .engine import setting


@dataclass(frozen=True, kw_only=True)
class CampaignSettings:
    # Throttle shared by every process sending campaigns, so the mail server (and its anti-spam
    # limits) see a steady trickle rather than the whole company at once.
    messages_per_minute: int = setting(60, check=checks.between(1, 1_000_000))


@dataclass(frozen=True, kw_only=True)
class ExpiryReminderSettings:
    within_days: int = setting(14, check=checks.between(1, 90))
