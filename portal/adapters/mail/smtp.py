"""Send messages through the organization's SMTP server, with TLS unless settings say otherwise.

Errors are sorted into "try again later" (the server is down, busy, or answers 4xx) and "never"
(5xx: the address is refused): the outbox retries the first and gives up on the second.

A caller that must never send one message twice passes `point_of_no_return`: it is called when
the server holds the whole message and only the line that ends it (".") is still to be sent.
Whatever it records is recorded before the server can accept the message; if it raises, the
connection is dropped without that line, and SMTP servers discard a message that was not ended.

A session keeps one connection for many messages. After any failure it drops the connection
(its state is unknown) and the next message opens a new one; a reused connection that turns
out dead (the server timed it out, or limits messages per connection) is replaced and the
message tried once more on the new one, unless the server may already have it.

Messages are written out here rather than with the `email` package: building and serialising an
EmailMessage costs about 1 ms, several times what the SMTP conversation itself costs.
"""
from __future__ import annotations

import binascii
import functools
import re
import secrets
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from email.header import Header
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

    @contextmanager
    def session(self) -> Iterator[SmtpSession]:
        session = SmtpSession(self)
        try:
            yield session
        finally:
            session.close()

    def check(self) -> None:
        """Connect, greet and log in without sending (the readiness check)."""
        with self.connect() as smtp:
            smtp.noop()

    def compose(self, mail: Mail) -> bytes:
        """The message as it goes over the wire (CRLF line ends, quoted-printable UTF-8 bodies)."""
        headers = [("From", self._from), ("To", _header_value("To", mail.to)),
                   ("Subject", _header_value("Subject", mail.subject)), ("Date", formatdate(localtime=False)),
                   ("Message-ID", make_msgid(domain=self._domain)), ("Auto-Submitted", "auto-generated"),
                   ("MIME-Version", "1.0")]
        head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode()
        if not mail.html:
            return head + _part(mail.text, "plain")
        boundary = f"=_{secrets.token_hex(16)}"  # "=_" never occurs in quoted-printable text
        return (head + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()
                + f"--{boundary}\r\n".encode() + _part(mail.text, "plain")
                + f"\r\n--{boundary}\r\n".encode() + _part(mail.html, "html")
                + f"\r\n--{boundary}--\r\n".encode())

    @functools.cached_property
    def _from(self) -> str:
        s = self.settings
        return formataddr((s.from_name, s.from_address)) if s.from_name else s.from_address

    @functools.cached_property
    def _domain(self) -> str | None:
        return self.settings.from_address.rpartition("@")[2] or None

    @functools.cached_property
    def _tls(self) -> ssl.SSLContext:
        """Built once: loading the CA store takes longer than sending a message."""
        return ssl.create_default_context(cafile=self.settings.ca_file or None)

    def connect(self) -> _SMTP:
        """A connection, greeted and logged in."""
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
            smtp.ehlo_or_helo_if_needed()
        except BaseException:
            smtp.close()
            raise
        # the end of a message is a second write right after its content: without TCP_NODELAY
        # it would wait for the server's delayed ACK (40 ms) on every message
        assert smtp.sock is not None
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return smtp


class SmtpSession:
    """A `MailSession`: messages one after the other on one connection, opened when needed."""

    def __init__(self, sender: SmtpSender) -> None:
        self.sender = sender
        self._smtp: _SMTP | None = None

    def send(self, mail: Mail, point_of_no_return: PointOfNoReturn | None = None) -> None:
        content = self.sender.compose(mail)
        try:
            try:
                self._hand_over(mail.to, content, point_of_no_return, reused=self._smtp is not None)
            except _StaleConnection:
                self._hand_over(mail.to, content, point_of_no_return, reused=False)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise _by_code(min(codes), "recipient refused") from error
        except smtplib.SMTPResponseException as error:
            raise _by_code(error.smtp_code, type(error).__name__) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(f"{type(error).__name__}: {error}"[:200]) from error

    def _hand_over(self, to: str, content: bytes, point_of_no_return: PointOfNoReturn | None, *,
                   reused: bool) -> None:
        """One message on the open connection (or a new one); any failure drops the connection,
        and a reused one that fails before the server may hold the message is _StaleConnection."""
        smtp = self._smtp or self.sender.connect()
        self._smtp = smtp
        smtp.point_of_no_return, smtp.ended = point_of_no_return, False
        try:
            options = [] if to.isascii() else ["SMTPUTF8"]
            smtp.sendmail(self.sender.settings.from_address, [to], content, mail_options=options)
        except BaseException as error:
            self._smtp = None
            smtp.close()  # no QUIT: after a timeout it would wait for another
            if reused and not smtp.ended and _disconnected(error):
                raise _StaleConnection from error
            raise

    def close(self) -> None:
        """Say goodbye (QUIT) and close; the end of a session."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            if smtp.sock is not None:
                smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass  # a connection that is going away anyway
        finally:
            smtp.close()


class _StaleConnection(Exception):
    """A kept connection failed before the message could reach the server: try a new one."""


def _disconnected(error: BaseException) -> bool:
    """The connection went away (not: the server answered no to this message)."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421  # "closing the connection" (idle timeout, messages per connection)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)  # SMTPException is an OSError


class _SMTP(smtplib.SMTP):
    """smtplib's DATA command (same protocol steps), with `point_of_no_return` before the final ".";
    `ended` says whether the server may hold the message (the hook ran, or the "." was sent)."""

    point_of_no_return: PointOfNoReturn | None = None
    ended = False

    def mail(self, sender: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        """smtplib's MAIL FROM, without parsing a plain address with the email package first
        (quoteaddr takes a sixth of the time of a whole message); anything else as smtplib does."""
        if not _PLAIN_ADDRESS.fullmatch(sender) or any(option.lower() == "smtputf8" for option in options):
            return super().mail(sender, options)
        self.putcmd("mail", f"FROM:<{sender}>{''.join(' ' + option for option in options)}")
        return self.getreply()

    def rcpt(self, recip: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        """smtplib's RCPT TO, likewise."""
        if not _PLAIN_ADDRESS.fullmatch(recip):
            return super().rcpt(recip, options)
        self.putcmd("rcpt", f"TO:<{recip}>{''.join(' ' + option for option in options)}")
        return self.getreply()

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        content = bytes(msg) if not isinstance(msg, str) else smtplib._fix_eols(msg).encode("ascii")  # type: ignore[attr-defined]
        content = smtplib._quote_periods(content)  # type: ignore[attr-defined]
        content = content if content.endswith(b"\r\n") else content + b"\r\n"
        hook = self.point_of_no_return
        if hook is None:
            self.ended = True
            self.send(content + b".\r\n")
            return self.getreply()
        self.send(content)
        try:
            hook()
        except BaseException:
            self.close()  # the message was never ended: the server throws it away
            raise
        self.ended = True
        self.send(b".\r\n")
        return self.getreply()


class _SMTP_SSL(_SMTP, smtplib.SMTP_SSL):  # smtplib's naming
    pass


# what quoteaddr would hand back unchanged, between < and >
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def _header_value(name: str, value: str) -> str:
    """The value as one header may carry it: folded, non-ASCII encoded (RFC 2047), never two lines."""
    if "\r" in value or "\n" in value:
        raise PermanentMailError(f"line break in the {name} header")
    if name == "To" or (value.isascii() and len(value) <= 76 - len(name)):
        return value  # an address is never encoded (non-ASCII ones go with SMTPUTF8)
    return Header(value, "utf-8" if not value.isascii() else None, header_name=name).encode(linesep="\r\n")


def _part(text: str, subtype: str) -> bytes:
    """A text part's headers and body, quoted-printable (binascii's, in C) with CRLF lines."""
    body = binascii.b2a_qp(text.replace("\r\n", "\n").replace("\r", "\n").encode(), istext=True)
    return (f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
            .encode() + body.replace(b"\n", b"\r\n"))


def _by_code(code: int, what: str) -> MailError:
    kind = PermanentMailError if 500 <= code < 600 else MailError
    return kind(f"SMTP {code}: {what}")
