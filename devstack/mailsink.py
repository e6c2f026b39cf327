"""The dev stack's SMTP server: accepts every message on 127.0.0.1 and keeps it as a .eml file.

The portal talks real SMTP to it (no mail mocks), and the demo and the tests read what arrived
from the maildir: one file per message, named so that sorting the names gives arrival order.
Run standalone with `python -m devstack.mailsink --port 2525 --maildir DIR`.
"""
from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import logging
import signal
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


# aiosmtpd narrates every SMTP command at INFO: thousands of lines per campaign test, none useful.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


class _SaveToMaildir:
    """aiosmtpd handler: write each message's bytes atomically, then tell the listener."""

    def __init__(self, maildir: Path, on_message: Callable[[EmailMessage], None] | None) -> None:
        self.maildir = maildir
        self.on_message = on_message
        self.sequence = itertools.count()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # SMTP lines end in CRLF; files on disk (and the parsed bodies) use plain newlines.
        content = (envelope.original_content or b"").replace(b"\r\n", b"\n")
        name = f"{time.time_ns():020d}-{next(self.sequence):06d}.eml"
        partial = self.maildir / f".{name}.part"
        partial.write_bytes(content)
        partial.rename(self.maildir / name)  # readers never see half a message
        if self.on_message is not None:
            self.on_message(parse(content))
        return "250 Message accepted"


class MailSink:
    """A real SMTP server on 127.0.0.1:<port> (in a thread) that saves every message in `maildir`."""

    def __init__(self, port: int, maildir: Path,
                 on_message: Callable[[EmailMessage], None] | None = None) -> None:
        self.port = port
        self.maildir = maildir
        self.controller = Controller(_SaveToMaildir(maildir, on_message),
                                     hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self.maildir.mkdir(parents=True, exist_ok=True)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        return [parse(path.read_bytes()) for path in sorted(self.maildir.glob("*.eml"))]

    def clear(self) -> None:
        for path in self.maildir.glob("*.eml"):
            path.unlink()

    def wait_for(self, predicate: Callable[[EmailMessage], bool],
                 timeout: float = 5.0) -> EmailMessage:
        """The first message that satisfies `predicate`; TimeoutError if none arrives in time."""
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages():
                if predicate(message):
                    return message
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no matching message in {self.maildir} after {timeout} s")
            time.sleep(0.05)

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
