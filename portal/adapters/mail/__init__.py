"""Outgoing mail over SMTP. Flows never call it directly: they queue mail in the outbox."""
from .smtp import Mail, MailError, PermanentMailError, PointOfNoReturn, SmtpSender

__all__ = ["Mail", "MailError", "PermanentMailError", "PointOfNoReturn", "SmtpSender"]
