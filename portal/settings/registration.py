"""Settings of security-info registration: methods, policy, enforcement at sign-in, one-time codes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import phonenumbers

from . import checks
from .engine import setting

# The verification methods' keys in display order, and those the directory can hold a value for.
# Each has its member in the registry (services/proofs/methods), which settings sit below and so
# cannot import; tests/services/proofs/test_method_registry.py keeps the two in step.
METHODS = ("email", "phone", "totp", "passkey", "questions")
# turned on unless settings say otherwise: a passkey is opt-in, so an upgrade does not change the pages
DEFAULT_METHODS = ("email", "phone", "totp", "questions")
DIRECTORY_METHODS = ("email", "phone")


def _methods(v: list[str]) -> str | None:
    if not v:
        return "must name at least one method"
    if len(set(v)) != len(v):
        return "must not name a method twice"
    return checks.each(checks.one_of(METHODS))(v)


def _country(v: str) -> str | None:
    if v in phonenumbers.SUPPORTED_REGIONS:
        return None
    return f"must be a two-letter country code such as US, GB or DE (got {v!r})"


def _countries(v: list[str]) -> str | None:
    return checks.non_empty(v) or checks.each(_country)(v)


def _question(v: str) -> str | None:
    return None if 5 <= len(v.strip()) <= 200 else f"must be a question of 5 to 200 characters (got {v!r})"


def _day(v: str) -> str | None:
    try:
        ok = v == "" or (len(v) == 10 and bool(date.fromisoformat(v)))
    except ValueError:
        ok = False
    return None if ok else f"must be empty (no deadline) or a date written YYYY-MM-DD (got {v!r})"


def _api_key(v: str) -> str | None:
    return None if v == "" or len(v) >= 32 else "must be empty (API disabled) or at least 32 random characters"


@dataclass(frozen=True, kw_only=True)
class PhoneSettings:
    allowed_countries: list[str] = setting(["US", "CA"], check=_countries)
    default_country: str = setting("US", check=_country)


@dataclass(frozen=True, kw_only=True)
class QuestionSettings:
    builtin: bool = setting(True)
    custom: list[str] = setting([], check=checks.each(_question))
    register_count: int = setting(3, check=checks.between(1, 10))
    ask_count: int = setting(2, check=checks.between(1, 10))
    min_answer_length: int = setting(3, check=checks.between(3, 64))


@dataclass(frozen=True, kw_only=True)
class RegistrationSettings:
    methods: list[str] = setting(list(DEFAULT_METHODS), check=_methods)
    # methods read from the directory: "email" from [directory] alternate_email_attribute,
    # "phone" from [directory] mobile_attribute
    directory_methods: list[str] = setting([], check=checks.each(checks.one_of(DIRECTORY_METHODS)))
    methods_required: int = setting(1, check=checks.between(1, 2))
    admin_groups: list[str] = setting([])
    admin_methods_required: int = setting(2, check=checks.between(2, 3))
    # administrators' info is complete only with a passkey among their methods (phishing-resistant)
    admin_requires_passkey: bool = setting(False)
    require_registration: bool = setting(False)
    reconfirm_days: int = setting(180, check=checks.between(0, 730))
    # "not now" on the notice page: how many times (0 = never) and for how many days after the first
    snooze_times: int = setting(3, check=checks.between(0, 10))
    snooze_days: int = setting(14, check=checks.between(1, 14))
    # from this day (UTC, YYYY-MM-DD) there is no "not now" any more; "" = no deadline
    required_from: str = setting("", check=_day)
    recent_sign_in_minutes: int = setting(10, check=checks.between(1, 60))
    return_to_origins: list[str] = setting([], check=checks.each(checks.origin_url))
    api_key: str = setting("", check=_api_key, secret=True)
    phone: PhoneSettings = setting(PhoneSettings)
    questions: QuestionSettings = setting(QuestionSettings)

    @property
    def deadline(self) -> date | None:
        """`required_from` as a date (checked when the settings were loaded)."""
        return date.fromisoformat(self.required_from) if self.required_from else None


@dataclass(frozen=True, kw_only=True)
class CodeSettings:
    digits: int = setting(6, check=checks.between(6, 10))
    valid_minutes: int = setting(10, check=checks.between(1, 10))
    max_attempts: int = setting(5, check=checks.between(1, 10))
    per_account_per_hour: int = setting(5, check=checks.between(1, 100))
    per_destination_per_hour: int = setting(5, check=checks.between(1, 100))
    per_ip_per_hour: int = setting(30, check=checks.between(1, 10000))


def cross_checks(settings: RegistrationSettings) -> list[tuple[str, str]]:
    """(key, message) pairs for rules that span keys of [registration]."""
    problems = []
    questions = settings.questions
    if questions.ask_count > questions.register_count:
        problems.append(("registration.questions.ask_count", "must not be more than register_count"))
    if "questions" in settings.methods and not questions.builtin and len(questions.custom) < questions.register_count:
        problems.append(("registration.questions.custom", "must offer at least register_count questions "
                                                          "when builtin = false"))
    if settings.admin_methods_required < settings.methods_required:
        problems.append(("registration.admin_methods_required", "must not be less than methods_required"))
    if settings.admin_requires_passkey and "passkey" not in settings.methods:
        problems.append(("registration.admin_requires_passkey", "can only be true when methods includes \"passkey\""))
    return problems
