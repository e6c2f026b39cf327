"""Send one message through the organization's SMTP server, with TLS unless settings say otherwise.

Errors are sorted into "try again later" (the server is down, busy, or answers 4xx) and "never"
(5xx: the address is refused): the outbox retries the first and gives up on the second.

A caller that must never send one message twice passes `point_of_no_return`: it is called when
the server holds the whole message and only the line that ends it (".") is still to be sent.
Whatever it records is recorded before the server can accept the message; if it raises, the
connection is dropped without that line, and SMTP servers discard a message that was not ended.
"""
from __future__ import annotations

import functools
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import TYPE_CHECKING

from ...settings.mail import MailSettings
from .message import Mail, MailError, PermanentMailError, PointOfNoReturn

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class SmtpSender:
    """A `MailSender` for the organization's SMTP server."""

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

    def send(self, mail: Mail, point_of_no_return: PointOfNoReturn | None = None) -> None:
        message = self.compose(mail)
        try:
            with self._connect() as smtp:
                smtp.point_of_no_return = point_of_no_return
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise _by_code(min(codes), "recipient refused") from error
        except smtplib.SMTPResponseException as error:
            raise _by_code(error.smtp_code, type(error).__name__) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"{type(error).__name__}: {error}"[:200]) from error

    def check(self) -> None:
        """Connect, greet and log in without sending (the readiness check)."""
        with self._connect() as smtp:
            smtp.noop()

    @functools.cached_property
    def _tls(self) -> ssl.SSLContext:
        """Built once: loading the CA store takes longer than sending a message."""
        return ssl.create_default_context(cafile=self.settings.ca_file or None)

    def _connect(self) -> _SMTP:
        s = self.settings
        if s.security == "tls":
            smtp: _SMTP = _SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds, context=self._tls)
        else:
            smtp = _SMTP(s.host, s.port, timeout=s.timeout_seconds)
        try:
            if s.security == "starttls":
                smtp.starttls(context=self._tls)
            if s.username:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


class _SMTP(smtplib.SMTP):
    """smtplib's DATA command (same protocol steps), with `point_of_no_return` before the final "."."""

    point_of_no_return: PointOfNoReturn | None = None

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        hook = self.point_of_no_return
        if hook is None:
            return super().data(msg)
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        content = bytes(msg) if not isinstance(msg, str) else smtplib._fix_eols(msg).encode("ascii")  # type: ignore[attr-defined]
        content = smtplib._quote_periods(content)  # type: ignore[attr-defined]
        # two writes in a row: without TCP_NODELAY the second waits for the server's delayed ACK
        assert self.sock is not None  # DATA comes after the greeting: the connection is open
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.send(content if content.endswith(b"\r\n") else content + b"\r\n")
        try:
            hook()
        except BaseException:
            self.close()  # the message was never ended: the server throws it away
            raise
        self.send(b".\r\n")
        return self.getreply()


class _SMTP_SSL(_SMTP, smtplib.SMTP_SSL):  # smtplib's naming
    pass


def _by_code(code: int, what: str) -> MailError:
    kind = PermanentMailError if 500 <= code < 600 else MailError
    return kind(f"SMTP {code}: {what}")
