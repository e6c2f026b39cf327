"""What the flows get to know about a directory account: plain values, no LDAP types."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class AccountState:
    """Account state as the directory sees it when the entry was read."""

    disabled: bool = False
    locked: bool = False
    must_change_password: bool = False  # AD pwdLastSet=0, OpenLDAP pwdReset
    password_changed_at: datetime | None = None
    password_expires_at: datetime | None = None  # None: never expires (or the policy is unknown)
    password_expired: bool = False

    @property
    def usable(self) -> bool:
        """Whether the person can sign in with a correct password right now."""
        return not (self.disabled or self.locked or self.password_expired)


def same_but_case(a: str, b: str) -> bool:
    """Equal lowercased AND uppercased: case variants ("Ǆ", "ǅ", "ǆ") and nothing else. Either
    alone joins more: lower() the Kelvin sign with "k", upper() "ß" with "SS" and "ı" with "I";
    casefold() does both and more ("straße" is "strasse", "ſ" is "s")."""
    return a.lower() == b.lower() and a.upper() == b.upper()


@dataclass(frozen=True)
class DirectoryUser:
    """One directory account, always built from a search result (never from user input).

    `directory_id` (entryUUID / objectGUID) survives renames and moves: it is the key the flows
    should store to find the same account again with `Directory.user_by_id()`.
    """

    dn: str
    directory_id: str
    login: str
    display_name: str
    logins: tuple[str, ...] = ()  # every value of every login attribute (uid; sAMAccountName, UPN)
    email: str | None = None
    alternate_emails: tuple[str, ...] = ()
    mobile: str | None = None
    preferred_language: str | None = None  # the directory's preferredLanguage, as written there ("fr-CA, en;q=0.5")
    groups: frozenset[str] = frozenset()     # group names (the first RDN's value), nested on AD
    group_dns: frozenset[str] = frozenset()
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # `extra_attributes`
    state: AccountState = AccountState()
    protected: bool = False  # on the deny list: the portal never changes this account
    policy_dn: str | None = None  # where its entry says its password rules are (None: the default ones)

    def known_as(self, name: str) -> bool:
        """Whether `name` is this account's own login name or work email, case aside.

        For a name another system vouches for (the provider's username claim): the directory's
        own matching found the entry, and this refuses what it folded beyond case.
        """
        own = (*self.logins, *((self.email,) if self.email else ()))
        return any(same_but_case(value, name) for value in own)

    def in_group(self, name_or_dn: str) -> bool:
        """Membership by group name or DN, case-insensitive as directories compare them."""
        wanted = name_or_dn.casefold()
        return any(g.casefold() == wanted for g in (*self.groups, *self.group_dns))


@dataclass(frozen=True)
class PasswordPolicy:
    """The directory's own password rules, so the portal can show them before the user types."""

    min_length: int = 0
    history: int = 0                  # how many previous passwords cannot be reused
    complexity: bool = False          # AD: three of upper, lower, digit, symbol; no account name
    min_age_seconds: int = 0
    max_age_seconds: int = 0          # 0 = passwords never expire
    lockout_threshold: int = 0        # failed binds before a lockout; 0 = no lockout
    lockout_seconds: int = 0          # 0 = until an administrator unlocks
