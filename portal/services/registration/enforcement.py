"""Whether a person must (re)register their security info before using the portal or another app.

One evaluation serves the sign-in interruption, /enforce for other applications and the status
API, so all three always agree.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from ... import clock
from ...adapters.directory import DirectoryUser
from ...settings import Settings
from ..proofs import security_info
from .policy import Policy, Status, policy_for, status
from .rollout import reset_enabled_for


def in_scope(settings: Settings, groups: Iterable[str]) -> bool:
    """Registration is required of the people self-service reset is rolled out to."""
    return settings.registration.require_registration and reset_enabled_for(settings.rollout, groups)


def evaluate(db: Session, settings: Settings, user: DirectoryUser, groups: Iterable[str]) -> tuple[Policy, Status]:
    policy = policy_for(settings, groups)
    info = security_info.load(db, user, settings.registration.directory_methods, settings.registration.phone)
    return policy, status(settings, policy, info, clock.utcnow())
