"""Outgoing mail, over SMTP. Flows never call it directly: they queue mail in the outbox."""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from ...settings.mail import MailSettings
from .message import Mail, MailError, PermanentMailError, PointOfNoReturn


class MailSession(Protocol):
    def send(self, mail: Mail, point_of_no_return: PointOfNoReturn | None = None) -> None:
        """Hand one message to the server; raise MailError (retry later) or PermanentMailError.

        `point_of_no_return` is called when the server holds the whole message and has not yet
        been told it is complete; if it raises, the message is not sent."""


class MailSender(Protocol):
    def session(self) -> AbstractContextManager[MailSession]:
        """One connection for many messages (a batch): opened at the first message, opened again
        after any failure, closed at the end. Reusing it saves the connect, greeting and login
        that would otherwise cost more than the message itself."""

    def check(self) -> None:
        """Connect and greet without sending (the readiness check); raise when the server is not usable."""


def make_sender(settings: MailSettings) -> MailSender | None:
    """The configured mail server, or None when no mail server is configured."""
    if not settings.configured:
        return None
    from .smtp import SmtpSender
    return SmtpSender(settings)


__all__ = ["Mail", "MailError", "MailSender", "MailSession", "PermanentMailError", "PointOfNoReturn", "make_sender"]
