"""Send one message through the organization's SMTP server, with TLS unless settings say otherwise.

Errors are sorted into "try again later" (the server is down, busy, or answers 4xx) and "never"
(5xx: the address is refused): the outbox retries the first and gives up on the second.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from ...settings.mail import MailSettings


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


class SmtpSender:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    def compose(self, mail: Mail) -> EmailMessage:
        sender = self.settings.from_address
        message = EmailMessage()
        message["From"] = formataddr((self.settings.from_name, sender)) if self.settings.from_name else sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(mail.text)
        if mail.html:
            message.add_alternative(mail.html, subtype="html")
        return message

    def send(self, mail: Mail) -> None:
        message = self.compose(mail)
        try:
            with self._connect() as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise _by_code(min(codes), "recipient refused") from error
        except smtplib.SMTPResponseException as error:
            raise _by_code(error.smtp_code, type(error).__name__) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"{type(error).__name__}: {error}"[:200]) from error

    def check(self) -> None:
        """Connect, greet and log in without sending (readiness and `mail check`)."""
        with self._connect() as smtp:
            smtp.noop()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context(cafile=s.ca_file or None)
        if s.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            if s.security == "starttls":
                smtp.starttls(context=context)
            if s.username:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _by_code(code: int, what: str) -> MailError:
    kind = PermanentMailError if 500 <= code < 600 else MailError
    return kind(f"SMTP {code}: {what}")
