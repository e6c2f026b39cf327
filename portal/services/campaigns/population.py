"""The people the portal serves and where each one stands with registration.

One read of the directory (every account, with groups and state) and one of the store (every
security profile at once), joined here: campaign audiences, coverage reports and "due to
re-confirm" lists all start from this, so they count people the same way.

Scope: with reset rolled out to groups, the members of those groups; otherwise everybody the
directory search returns (with `nobody`, that is whom a "coming soon" campaign is for).
Protected and disabled accounts are never in scope: the portal does nothing for them.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ... import clock
from ...adapters.directory import Directory, DirectoryUser
from ...settings import Settings
from ...store.security_info import SecurityProfile
from ..proofs import security_info
from ..registration.policy import MISSING, RECONFIRM, Policy, Status, policy_for, status
from ..registration.rollout import member_of_any


@dataclass(frozen=True)
class Standing:
    user: DirectoryUser
    profile: SecurityProfile | None  # what the person registered here (None: nothing)
    info: security_info.SecurityInfo
    policy: Policy
    status: Status

    @property
    def registered(self) -> bool:
        """Enough methods to reset (re-confirmation overdue or not)."""
        return self.status.reason != MISSING

    @property
    def reconfirm_due(self) -> bool:
        return self.status.reason == RECONFIRM


def manageable(user: DirectoryUser) -> bool:
    """An account the portal does anything for: not on the deny list, not disabled."""
    return not (user.protected or user.state.disabled)


def in_scope(settings: Settings, user: DirectoryUser) -> bool:
    rollout = settings.rollout
    return manageable(user) and (rollout.reset != "group" or member_of_any(user.groups, rollout.groups))


def people_in_scope(directory: Directory, settings: Settings, group: str | None = None) -> Iterator[DirectoryUser]:
    """Everybody in scope, optionally only the members of `group` (name or DN)."""
    for user in directory.people():
        if in_scope(settings, user) and (not group or user.in_group(group)):
            yield user


def standings(db: Session, directory: Directory, settings: Settings, group: str | None = None) -> list[Standing]:
    profiles = {p.directory_id: p for p in db.scalars(
        select(SecurityProfile).options(selectinload(SecurityProfile.methods),
                                        selectinload(SecurityProfile.answers)))}
    registration, now = settings.registration, clock.utcnow()
    found = []
    for user in people_in_scope(directory, settings, group):
        profile = profiles.get(user.directory_id)
        info = security_info.from_profile(profile, user, registration.directory_methods, registration.phone)
        policy = policy_for(settings, user.groups)
        found.append(Standing(user, profile, info, policy, status(settings, policy, info, now)))
    return found
