"""Which account a reset is for, and whether it may use self-service reset at all.

Only the answer to "may it?" differs between an account that can reset and one that cannot
(unknown, out of scope, disabled, protected, without enough methods): the same lookups run for
every name, and the flow started for an account that cannot reset looks and behaves like any
other, it just never verifies. The reason is written to the audit trail, never to the page.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ...adapters.directory import DirectoryUser
from ...settings import Settings
from ...settings.registration import RegistrationSettings
from ..container import Collaborators
from ..proofs import security_info
from ..proofs.security_info import SecurityInfo
from ..registration.policy import Policy, policy_for
from ..registration.rollout import reset_enabled_for

UNKNOWN_ACCOUNT = "unknown_account"
PROTECTED = "protected"
DISABLED = "disabled"
OUT_OF_SCOPE = "out_of_scope"
NO_METHODS = "no_methods"
DECOY_ID = "no-account"  # looked up in place of a real directory id, so every name costs the same


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in at the provider in this browser, if anyone, with the groups of their claim."""

    username: str
    groups: frozenset[str]


@dataclass(frozen=True)
class Account:
    """A directory account with its security info and the verification policy that applies to it."""

    user: DirectoryUser
    info: SecurityInfo
    policy: Policy
    groups: frozenset[str]  # the directory's, plus the provider's when this person is signed in


@dataclass(frozen=True)
class Lookup:
    """The outcome of identify: `account` is None unless the account may reset; `reason` says why not."""

    user: DirectoryUser | None
    account: Account | None
    reason: str | None


def load_info(db: Session, registration: RegistrationSettings, user: DirectoryUser) -> SecurityInfo:
    return security_info.load(db, user, registration.directory_methods, registration.phone)


def look_up(c: Collaborators, db: Session, identifier: str, signed_in: SignedIn | None) -> Lookup:
    """Find the account named by `identifier` and decide; raises DirectoryUnavailable only."""
    user = c.directory.find_user(identifier)
    if user is None:
        security_info.find_profile(db, DECOY_ID)
        return Lookup(None, None, UNKNOWN_ACCOUNT)
    account = _account(c.settings, db, user, signed_in)
    reason = _refusal(c.settings, account)
    return Lookup(user, account if reason is None else None, reason)


def in_rollout(c: Collaborators, signed_in: SignedIn) -> bool:
    """Whether the person signed in here is in the reset rollout, counting their directory groups
    and their provider's groups claim (as `look_up` does for their own name). Raises DirectoryUnavailable."""
    user = c.directory.find_user(signed_in.username)
    groups = _groups(user, signed_in) if user is not None else signed_in.groups
    return reset_enabled_for(c.settings.rollout, groups)


def reload(c: Collaborators, db: Session, directory_id: str, signed_in: SignedIn | None) -> Account | None:
    """The flow's account read again (current state and info); None if it may no longer reset."""
    user = c.directory.user_by_id(directory_id)
    if user is None:
        return None
    account = _account(c.settings, db, user, signed_in)
    return account if _refusal(c.settings, account) is None else None


def _account(settings: Settings, db: Session, user: DirectoryUser, signed_in: SignedIn | None) -> Account:
    groups = _groups(user, signed_in)
    return Account(user, load_info(db, settings.registration, user), policy_for(settings, groups), groups)


def _groups(user: DirectoryUser, signed_in: SignedIn | None) -> frozenset[str]:
    """Directory groups, plus the provider's groups claim when the person signed in is this account
    (it carries their username; a fold would let a signed-in "straße" lend groups to "strasse")."""
    if signed_in is not None and user.known_as(signed_in.username):
        return user.groups | signed_in.groups
    return user.groups


def _refusal(settings: Settings, account: Account) -> str | None:
    user = account.user
    if user.protected:
        return PROTECTED
    if user.state.disabled:
        return DISABLED
    if not reset_enabled_for(settings.rollout, account.groups):
        return OUT_OF_SCOPE
    if not account.policy.satisfied_by(account.info):
        return NO_METHODS
    return None
