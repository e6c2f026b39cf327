"""Settings of the forgotten-password reset, the password change and the notices they send.

The limits are the portal's own, counted per IP and per account (every alias of an account
together); they sit in front of the directory so that the portal never drives an account's
bad-password counter into a lockout.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import checks
from .engine import setting
from .mail import _address


@dataclass(frozen=True, kw_only=True)
class ChallengeSettings:
    """[reset.challenge]: the proof-of-work asked of an address that overdoes identify / send-code."""
    enabled: bool = setting(True)
    after_attempts: int = setting(20, check=checks.between(1, 10000))
    cost: int = setting(5000, check=checks.between(1, 1000000))


@dataclass(frozen=True, kw_only=True)
class ResetSettings:
    flow_minutes: int = setting(15, check=checks.between(5, 60))
    unlock_on_reset: bool = setting(True)
    allow_unlock: bool = setting(True)
    identify_per_ip_per_hour: int = setting(30, check=checks.between(1, 10000))
    identify_per_account_per_hour: int = setting(10, check=checks.between(1, 1000))
    verify_per_ip_per_hour: int = setting(60, check=checks.between(1, 10000))
    max_failed_verifications: int = setting(5, check=checks.between(1, 50))
    failure_window_minutes: int = setting(30, check=checks.between(1, 1440))
    pause_minutes: int = setting(60, check=checks.between(1, 10080))
    min_response_ms: int = setting(300, check=checks.between(0, 5000))
    challenge: ChallengeSettings = setting(ChallengeSettings)


@dataclass(frozen=True, kw_only=True)
class ChangeSettings:
    per_ip_per_hour: int = setting(20, check=checks.between(1, 10000))
    max_wrong_passwords: int = setting(2, check=checks.between(1, 20))
    wrong_password_window_minutes: int = setting(30, check=checks.between(1, 1440))


@dataclass(frozen=True, kw_only=True)
class NotificationSettings:
    admin_emails: list[str] = setting([], check=checks.each(lambda v: checks.non_empty(v) or _address(v)))
