"""Tell people by email when their password was reset or changed (or may have been), by themselves or
the help desk, their account unlocked, or their reset paused.

"If this was not you" is the whole point: the mail goes to the directory address and every
alternate address (the same recipients as security-info notices), with the help desk's contact
from the theme. Administrators' resets are also reported to the addresses in
[notifications] admin_emails. Everything is queued in the outbox with the change it reports,
so a mail server that is down delays the notice and never loses it.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.directory.model import DirectoryUser
from ...settings import Settings
from ..proofs.security_info import SecurityInfo
from ..reset.accounts import load_info
from . import languages
from .messages import queue_mail
from .notifications import recipients
from .outbox import ChannelUnavailable

log = logging.getLogger(__name__)
PURPOSE = "notification"
TEMPLATE = "password-notice"  # mail/password-notice.*: a theme overrides every notice at once


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def _send(db: Session, event: str, addresses: list[str], user: DirectoryUser, language: str,
          **context: Any) -> int:
    """Queue one notice per address in `language` (one template, `event` picks its sentences);
    how many queued."""
    try:
        with force_locale(language):
            for address in addresses:
                queue_mail(db, TEMPLATE, address, purpose=PURPOSE, event=event, when=clock.utcnow(),
                           name=user.display_name or user.login, login=user.login, **context)
    except ChannelUnavailable:
        log.warning("no mail server is configured: the %s notice was not queued", event)
        return 0
    return len(addresses)


def _to_user(db: Session, event: str, user: DirectoryUser, info: SecurityInfo | None = None,
             **context: object) -> int:
    """`info`: the person's security info when the caller read it already in this step."""
    known = info or load_info(db, _settings().registration, user)
    return _send(db, event, recipients(user, known), user, languages.for_person(db, user), **context)


def password_reset(db: Session, user: DirectoryUser, *, admin: bool, info: SecurityInfo | None = None) -> int:
    """After a self-service reset; administrators' resets are also reported to IT."""
    sent = _to_user(db, "reset", user, info)
    if admin:
        sent += _send(db, "admin_reset", list(_settings().notifications.admin_emails), user,
                      languages.default_language())
    return sent


def password_changed(db: Session, user: DirectoryUser) -> int:
    return _to_user(db, "changed", user)


def password_may_have_changed(db: Session, user: DirectoryUser) -> int:
    """A reset or change was sent and the directory's answer never came: it may have happened."""
    return _to_user(db, "maybe_changed", user)


def account_unlocked(db: Session, user: DirectoryUser, *, info: SecurityInfo | None = None) -> int:
    return _to_user(db, "unlocked", user, info)


def helpdesk_reset(db: Session, user: DirectoryUser, *, info: SecurityInfo | None = None) -> int:
    """After the help desk set a temporary password (the caller passed a check of their methods)."""
    return _to_user(db, "helpdesk_reset", user, info)


def helpdesk_unlocked(db: Session, user: DirectoryUser, *, info: SecurityInfo | None = None) -> int:
    return _to_user(db, "helpdesk_unlocked", user, info)


def reset_paused(db: Session, user: DirectoryUser, *, until: datetime) -> int:
    return _to_user(db, "paused", user, until=until)
