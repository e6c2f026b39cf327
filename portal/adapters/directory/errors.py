"""The few things that can go wrong in the directory, each with a sentence a user understands.

Raw LDAP results and server messages go to the log only; pages show `error.message`. `code` is a
stable name for audit records and tests. Every error says, by its class, whether anything may
have changed: only `OutcomeUnknown` (and `StillLockedAfterReset`, where the password DID change)
leave the directory in a state other than "as before".
"""
from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

log = logging.getLogger(__name__)


class DirectoryError(Exception):
    """Base class: the directory refused or failed; nothing was changed."""

    code = "directory_error"
    message = _l("The directory could not complete this request. Nothing was changed. "
                 "Please try again later or contact the help desk.")

    def __init__(self, detail: str = "") -> None:
        # `detail` is for the log (never a password): the raw result, the server's words.
        super().__init__(detail or self.code)
        self.detail = detail
        log.info("directory: %s (%s)", self.code, detail)


class DirectoryUnavailable(DirectoryError):
    code = "unavailable"
    message = _l("The directory cannot be reached right now. Nothing was changed. "
                 "Please try again in a few minutes.")


class OutcomeUnknown(DirectoryError):
    """The write was sent but no answer came: the password may or may not have changed."""

    code = "outcome_unknown"
    message = _l("We could not confirm whether your password was changed. Try signing in with "
                 "the new password; if that does not work, try again or contact the help desk.")


class PermissionDenied(DirectoryError):
    """The portal's account lacks a right it needs: an IT problem, not the user's."""

    code = "permission_denied"
    message = _l("The portal is not allowed to change this account. "
                 "Please contact the help desk.")


class ProtectedAccount(DirectoryError):
    """On the deny list (the service account, administrators, protected groups)."""

    code = "protected_account"
    message = _l("The password of this account cannot be changed here. "
                 "Please contact the help desk.")


class WrongPassword(DirectoryError):
    code = "wrong_password"
    message = _l("The current password is not correct.")


class AccountLocked(DirectoryError):
    code = "account_locked"
    message = _l("This account is locked after too many failed sign-in attempts. "
                 "Wait a while and try again, or unlock it here if you can.")


class AccountDisabled(DirectoryError):
    code = "account_disabled"
    message = _l("This account is disabled. Please contact the help desk.")


class PasswordExpired(DirectoryError):
    """The password has expired or must be changed; signing in with it no longer works."""

    code = "password_expired"
    message = _l("Your password has expired. Please choose a new one with \"Reset my password\".")


class StillLockedAfterReset(DirectoryError):
    """The new password is set, but unlocking failed: say both, truthfully."""

    code = "still_locked"
    message = _l("Your password was changed, but your account is still locked. "
                 "Please contact the help desk to unlock it.")


class MustChangeNotSet(DirectoryError):
    """The new password is set, but the directory refused to require a change at next sign-in."""

    code = "must_change_not_set"
    message = _l("The password was set, but the directory refused to require a new one at the next "
                 "sign-in. Ask IT to grant the portal's account write on pwdReset.")


class PasswordRejected(DirectoryError):
    """The directory's password policy refused the new password (the user can try another)."""

    code = "password_rejected"
    message = _l("The directory did not accept this password. Please choose a different one.")


class PasswordCharactersRefused(PasswordRejected):
    """The password holds characters never sent to a directory (passwords.py); nothing was sent."""

    code = "password_characters"
    message = _l("Passwords cannot contain control characters (such as tab or line breaks) or code "
                 "points that are not characters. Type the password again without them.")


class PasswordTooShort(PasswordRejected):
    code = "password_too_short"
    message = _l("This password is too short for the directory. Please choose a longer one.")


class PasswordTooSimple(PasswordRejected):
    code = "password_too_simple"
    message = _l("This password is too simple. Mix upper- and lower-case letters, digits and "
                 "symbols, and do not use your name or account name.")


class PasswordInHistory(PasswordRejected):
    code = "password_in_history"
    message = _l("You used this password recently. Please choose one you have not used before.")


class PasswordTooYoung(PasswordRejected):
    code = "password_too_young"
    message = _l("Your password was changed too recently to change it again now. "
                 "Please try again later.")
