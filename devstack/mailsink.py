"""The dev stack's SMTP server: accepts every message on 127.0.0.1 and keeps it as a .eml file.

The portal talks real SMTP to it (no mail mocks), and the demo and the tests read what arrived
from the maildir: one file per message, named so that sorting the names gives arrival order.
Run standalone with `python -m devstack.mailsink --port 2525 --maildir DIR`.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import logging
import signal
import threading
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devstack.spool import Spool


# aiosmtpd narrates every SMTP command at INFO: thousands of lines per campaign test, none useful.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


class _SaveToMaildir:
    """aiosmtpd handler: keep each message's bytes in the spool, then tell the listener."""

    def __init__(self, spool: Spool, on_message: Callable[[EmailMessage], None] | None) -> None:
        self.spool = spool
        self.on_message = on_message

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # SMTP lines end in CRLF; files on disk (and the parsed bodies) use plain newlines.
        content = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        self.spool.save(content)
        if self.on_message is not None:
            self.on_message(parse(content))
        return "250 Message accepted"


class MailSink:
    """A real SMTP server on 127.0.0.1:<port> (in a thread) that saves every message in `maildir`."""

    def __init__(self, port: int, maildir: Path,
                 on_message: Callable[[EmailMessage], None] | None = None) -> None:
        self.port = port
        self.maildir = maildir
        self.spool = Spool(maildir, ".eml")
        self.controller = Controller(_SaveToMaildir(self.spool, on_message),
                                     hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.spool.create()
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        return [parse(content) for content in self.spool.contents()]

    def clear(self) -> None:
        self.spool.clear()

    def wait_for(self, predicate: Callable[[EmailMessage], bool],
                 timeout: float = 5.0) -> EmailMessage:
        """The first message that satisfies `predicate`; TimeoutError if none arrives in time."""
        return self.spool.wait_for(parse, predicate, timeout)

    def __enter__(self) -> "MailSink":
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def summary(message: EmailMessage) -> str:
    return f"mail to {message['To']}: {message['Subject']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    args = parser.parse_args()
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with MailSink(args.port, args.maildir, on_message=lambda m: print(summary(m), flush=True)):
        print(f"SMTP on 127.0.0.1:{args.port}, messages saved in {args.maildir}", flush=True)
        stopped.wait()


if __name__ == "__main__":
    main()
