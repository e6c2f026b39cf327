"""Tell people by email when their security info changes, so a hijacker's change does not go unseen.

The mail goes to the account's own address and to every alternate address registered BEFORE
the change: an attacker who replaces the alternate address cannot silence the old one.
"""
from __future__ import annotations

import logging

from flask_babel import force_locale
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.directory.model import DirectoryUser
from ..proofs.methods import REGISTRY, Channel
from ..proofs.methods.email import same_address
from ..proofs.security_info import SecurityInfo
from . import languages
from .messages import queue_mail
from .outbox import ChannelUnavailable

log = logging.getLogger(__name__)
ADDED, CHANGED, REMOVED = "added", "changed", "removed"


def recipients(user: DirectoryUser, before: SecurityInfo) -> list[str]:
    found: list[str] = []
    mailboxes = [d.address for d in before.destinations if REGISTRY[d.kind].channel is Channel.MAIL]
    for address in [user.email, *mailboxes]:
        if address and not any(same_address(address, known) for known in found):
            found.append(address)
    return found


def security_info_changed(db: Session, *, user: DirectoryUser, before: SecurityInfo, method: str,
                          action: str) -> int:
    """Queue the notice; the number of addresses it goes to (0 when no mail is possible)."""
    addresses = recipients(user, before)
    try:
        with force_locale(languages.for_person(db, user)):
            for address in addresses:
                queue_mail(db, "security-info-changed", address, purpose="notification", method=method,
                           method_name=REGISTRY[method].named, action=action, when=clock.utcnow(),
                           name=user.display_name or user.login)
    except ChannelUnavailable:
        log.warning("security info of an account changed but no mail server is configured to tell them")
        return 0
    return len(addresses)
