"""The directory adapter: the only code in the portal that speaks LDAP (ldap3 stays in here).

Flows use `Directory` (interface.py), `DirectoryUser` / `AccountState` / `PasswordPolicy`
(model.py) and the errors in errors.py; `create_directory(settings.directory)` builds the
implementation the settings choose, `directory_for(app)` returns the app's shared one.
"""
from __future__ import annotations

from flask import Flask, current_app

from ...settings.directory import DirectorySettings
from .errors import (
    AccountDisabled,
    AccountLocked,
    DirectoryError,
    DirectoryUnavailable,
    MustChangeNotSet,
    OutcomeUnknown,
    PasswordCharactersRefused,
    PasswordExpired,
    PasswordInHistory,
    PasswordRejected,
    PasswordTooShort,
    PasswordTooSimple,
    PasswordTooYoung,
    PermissionDenied,
    ProtectedAccount,
    StillLockedAfterReset,
    WrongPassword,
)
from .interface import Directory
from .model import AccountState, DirectoryUser, PasswordPolicy

__all__ = [
    "AccountDisabled", "AccountLocked", "AccountState", "Directory", "DirectoryError",
    "DirectoryUnavailable", "DirectoryUser", "MustChangeNotSet", "OutcomeUnknown", "PasswordCharactersRefused", "PasswordExpired",
    "PasswordInHistory", "PasswordPolicy", "PasswordRejected", "PasswordTooShort", "PasswordTooSimple", "PasswordTooYoung",
    "PermissionDenied", "ProtectedAccount", "StillLockedAfterReset", "WrongPassword",
    "create_directory", "directory_for", "init_app",
]

EXTENSION = "directory"


def create_directory(settings: DirectorySettings) -> Directory:
    if settings.kind == "active_directory":
        from .active_directory import ActiveDirectory
        return ActiveDirectory(settings)
    from .openldap import OpenLdapDirectory
    return OpenLdapDirectory(settings)


def init_app(app: Flask, settings: DirectorySettings) -> Directory:
    """One directory (and so one connection pool) per app, closed with nothing: pools close on exit."""
    directory = create_directory(settings)
    app.extensions[EXTENSION] = directory
    return directory


def directory_for(app: Flask | None = None) -> Directory:
    directory: Directory = (app or current_app).extensions[EXTENSION]
    return directory
