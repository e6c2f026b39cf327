"""Which methods a person may register, how many they need, and whether they are up to date.

Administrators (members of `registration.admin_groups`) follow the stricter policy Entra ID
applies to them: at least two methods and never one the registry says administrators may not
use (security questions, guessable from social media); with `admin_requires_passkey`, one of
their methods must be phishing-resistant (a passkey), and a reset asks them for it
(reset/verification.py). A method is "available" only when the
portal can use it (its member says: email needs a mail server, phone an SMS gateway).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ...settings import Settings
from ..proofs.methods import REGISTRY, questions
from ..proofs.security_info import SecurityInfo

MISSING = "missing"      # fewer methods than required
RECONFIRM = "reconfirm"  # enough methods, but not confirmed within reconfirm_days
REQUESTED = "requested"  # enough methods, but IT asked for re-registration after the last confirmation


@dataclass(frozen=True)
class Policy:
    methods: tuple[str, ...]  # offered to this person, in display order
    required: int
    admin: bool
    questions_needed: int
    question_keys: frozenset[str]  # questions offered now; answers to retired ones do not count
    phishing_resistant_needed: bool = False  # one counted method must resist phishing (a passkey)

    def counted(self, info: SecurityInfo) -> list[str]:
        """The person's methods that count under this policy (questions: enough current answers)."""
        kinds = info.kinds
        if len(self.question_keys & set(info.answered)) < self.questions_needed:
            kinds.discard(questions.KEY)
        return [m for m in self.methods if m in kinds]

    def satisfied_by(self, info: SecurityInfo) -> bool:
        return not self.missing(info)

    def missing(self, info: SecurityInfo) -> bool:
        """Too few methods, or none that resists phishing when one is needed."""
        counted = self.counted(info)
        return len(counted) < self.required or (
            self.phishing_resistant_needed and not any(REGISTRY[m].phishing_resistant for m in counted))


@dataclass(frozen=True)
class Status:
    """What enforcement and the status API report about one person."""

    methods: int
    required: int
    confirmed_at: datetime | None
    compliant: bool
    reason: str | None  # MISSING, RECONFIRM, REQUESTED or None when compliant


def is_admin(settings: Settings, groups: Iterable[str]) -> bool:
    wanted = {g.casefold() for g in settings.registration.admin_groups}
    return any(g.casefold() in wanted for g in groups)


def available_methods(settings: Settings) -> tuple[str, ...]:
    """The methods settings turn on that the portal can use now, in display order."""
    return tuple(key for key, method in REGISTRY.items()
                 if key in settings.registration.methods and method.available(settings))


def policy_for(settings: Settings, groups: Iterable[str]) -> Policy:
    registration = settings.registration
    admin = is_admin(settings, groups)
    methods = tuple(m for m in available_methods(settings) if REGISTRY[m].allowed_for_admins or not admin)
    required = registration.admin_methods_required if admin else registration.methods_required
    return Policy(methods=methods, required=required, admin=admin,
                  questions_needed=registration.questions.register_count,
                  question_keys=frozenset(q.key for q in questions.catalogue(registration.questions)),
                  phishing_resistant_needed=admin and registration.admin_requires_passkey)


def status(settings: Settings, policy: Policy, info: SecurityInfo, now: datetime) -> Status:
    """Enough methods, and (when reconfirm_days > 0) confirmed recently enough.

    Info that only the directory or an import holds, never confirmed by the person, is IT's to
    keep current: it is not "due" for re-confirmation, so people whose data IT maintains are
    never interrupted for it, unless IT asks for re-registration (then a confirmation after the
    request is what counts).
    """
    count = len(policy.counted(info))
    reason = None
    if policy.missing(info):
        reason = MISSING
    elif _requested(info.reregistration_requested_at, info.confirmed_at):
        reason = REQUESTED
    elif _reconfirm_due(settings.registration.reconfirm_days, info.confirmed_at, now):
        reason = RECONFIRM
    return Status(methods=count, required=policy.required, confirmed_at=info.confirmed_at,
                  compliant=reason is None, reason=reason)


def _reconfirm_due(days: int, confirmed_at: datetime | None, now: datetime) -> bool:
    return days > 0 and confirmed_at is not None and now - confirmed_at > timedelta(days=days)


def _requested(requested_at: datetime | None, confirmed_at: datetime | None) -> bool:
    return requested_at is not None and (confirmed_at is None or confirmed_at < requested_at)
