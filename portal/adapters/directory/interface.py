"""The one directory interface every flow uses; `openldap` and `active_directory` implement it.

Methods raise the errors in `errors.py` and nothing else (no ldap3 exception ever escapes).
Writes take a DirectoryUser that came from `find_user` / `user_by_login` / `user_by_id`, so a DN
is never built from what a browser sent.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from .model import DirectoryUser, PasswordPolicy


class Directory(Protocol):
    kind: str  # "openldap" or "active_directory"

    def find_user(self, identifier: str) -> DirectoryUser | None:
        """The one account whose login name or email is `identifier` under the directory's own
        matching; None for none or several. Pass what the person typed: a name folded first
        (case fold, NFKC) can name another account ("straße" folds to "strasse").

        Raises DirectoryUnavailable only. Protected accounts are returned with `protected=True`:
        the caller decides how to stay silent about them.
        """

    def user_by_login(self, login: str) -> DirectoryUser | None:
        """The one account whose own login name or work email IS `login`, case aside: for a name
        another system vouches for (the provider's username claim), so a signed-in person is
        never given an entry the directory merely matched by folding ("ｆｕｌｌ" for "full").
        None for none, several, or a match that does not carry the name. Raises DirectoryUnavailable.
        """

    def user_by_id(self, directory_id: str) -> DirectoryUser | None:
        """Read the account again by the `directory_id` of an earlier result (current state)."""

    def people(self) -> Iterator[DirectoryUser]:
        """Every account the portal serves (the user filter under every search base), with its
        groups and state: the standings refresh and expiry reminders, never a user-facing flow.

        A generator over a paged search: memory stays at one page whatever the directory's size,
        and the listing holds one pooled connection until it is read to the end or closed.
        Raises DirectoryUnavailable while it is read (also when the server's size limit cuts the
        paged search short): a caller must not act on "who is missing" before the end.
        """

    def verify_password(self, user: DirectoryUser, password: str) -> None:
        """Bind as the user. Raises WrongPassword, AccountLocked, AccountDisabled, PasswordExpired.

        The password is sent exactly as typed (passwords.py); an empty one is refused without a
        bind, and so, with PasswordCharactersRefused, is one holding characters no directory is
        sent. A failed bind counts toward the directory's lockout, so callers throttle first.
        """

    def reset_password(self, user: DirectoryUser, new_password: str, *, unlock: bool,
                       must_change: bool = False) -> None:
        """Set a new password as the service account (self-service reset after verification).

        `unlock=True` also clears a lockout; `must_change=True` makes the directory ask for a new
        password at the next sign-in (a help desk's temporary password). Raises PasswordRejected (or a subclass),
        ProtectedAccount, AccountDisabled, PermissionDenied, DirectoryUnavailable (nothing changed),
        OutcomeUnknown (sent, no answer) or StillLockedAfterReset.
        """

    def change_password(self, user: DirectoryUser, old_password: str, new_password: str) -> None:
        """Change as the user with the current password, so the directory applies its history.

        Raises WrongPassword, PasswordRejected (or a subclass), AccountLocked, AccountDisabled,
        PasswordExpired (OpenLDAP: an expired password can only be reset), ProtectedAccount,
        DirectoryUnavailable or OutcomeUnknown.
        """

    def unlock(self, user: DirectoryUser) -> None:
        """Clear a lockout without touching the password. Raises ProtectedAccount,
        AccountDisabled, PermissionDenied, DirectoryUnavailable, OutcomeUnknown."""

    def password_policy(self, user: DirectoryUser | None = None) -> PasswordPolicy:
        """The rules that apply to `user` (or the default rules), to show before typing."""

    def ping(self) -> None:
        """A cheap search as the service account through the pool (readiness)."""

    def close(self) -> None:
        """Close pooled connections."""

    def after_fork(self) -> None:
        """In a new worker process: forget the parent's pooled connections (never unbind them)."""
