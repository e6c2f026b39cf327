"""What the outbox hands a mail sender, and what a sender may raise, sorted by whether a retry helps."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None


class MailError(Exception):
    """Could not send now; worth another try later. The text is for the log (no message content)."""


class PermanentMailError(MailError):
    """The server refused the message for good (5xx); retrying would not help."""


# called once the server holds the whole message, before it is ended (see smtp.py)
PointOfNoReturn = Callable[[], None]
