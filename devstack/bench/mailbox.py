"""The SMTP sink of a bench run (devstack/mailsink.py) and what the figures read from it.

Codes are picked out of the mail as it arrives, by recipient, so a reset flow waits for its own
code without scanning the maildir. Every accepted message is also noted with its arrival time and
the SMTP session it came on: delivery rates are taken between the first and the last arrival, and
the number of connections the portal used at once is what the smtplib reference gets.
"""
from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from devstack.mailsink import MailSink

CODE = re.compile(r"\b(\d{6})\b")


@dataclass(frozen=True)
class Arrival:
    at: float
    session: int  # which SMTP connection (numbered as they first deliver)
    to: str


class Mailbox:
    def __init__(self, port: int, maildir: Path) -> None:
        self.sink = MailSink(port, maildir, on_message=self._on_message)
        self._codes: dict[str, list[str]] = {}
        self._arrivals: list[Arrival] = []
        self._changed = threading.Condition()
        handler: Any = self.sink.controller.handler
        saved = handler.handle_DATA

        sessions = itertools.count()

        async def noted(server: Any, session: Any, envelope: Any) -> str:
            answer: str = await saved(server, session, envelope)
            if not hasattr(session, "bench_number"):  # a port number can come back; a Session cannot
                session.bench_number = next(sessions)
            with self._changed:
                self._arrivals.append(Arrival(time.monotonic(), session.bench_number, ",".join(envelope.rcpt_tos)))
                self._changed.notify_all()
            return answer

        handler.handle_DATA = noted

    def __enter__(self) -> "Mailbox":
        self.sink.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.sink.stop()

    def _on_message(self, message: EmailMessage) -> None:
        if "verification code" not in str(message["Subject"]):
            return
        body = message.get_body(("plain",))
        found = CODE.search(body.get_content() if body is not None else "")
        if found:
            with self._changed:
                self._codes.setdefault(str(message["To"]), []).append(found.group(1))
                self._changed.notify_all()

    def code_for(self, address: str, timeout: float = 60) -> str:
        """The first code not taken yet for `address`, waiting for it to arrive."""
        with self._changed:
            if not self._changed.wait_for(lambda: bool(self._codes.get(address)), timeout):
                raise TimeoutError(f"no code for {address} after {timeout} s")
            return self._codes[address].pop(0)

    def mark(self) -> int:
        """Where the arrivals stand now (arrivals after this mark belong to what comes next)."""
        with self._changed:
            return len(self._arrivals)

    def wait_arrivals(self, since: int, count: int, timeout: float,
                      to: Callable[[str], bool] = lambda _to: True) -> list[Arrival]:
        """The first `count` arrivals after the mark `since` whose recipient passes `to`
        (fewer if they do not come within `timeout`)."""
        def matching() -> list[Arrival]:
            return [arrival for arrival in self._arrivals[since:] if to(arrival.to)]
        with self._changed:
            self._changed.wait_for(lambda: len(matching()) >= count, timeout)
            return matching()[:count]

    def clear(self) -> None:
        self.sink.clear()


def rate(arrivals: list[Arrival]) -> float:
    """Messages per second between the first arrival and the last."""
    if len(arrivals) < 2:
        return 0.0
    return (len(arrivals) - 1) / max(arrivals[-1].at - arrivals[0].at, 1e-6)


def connections_at_once(arrivals: list[Arrival]) -> int:
    """How many SMTP sessions carried mail at the same time (each from its first to last message)."""
    spans: dict[int, tuple[float, float]] = {}
    for arrival in arrivals:
        first, _ = spans.get(arrival.session, (arrival.at, arrival.at))
        spans[arrival.session] = (first, arrival.at)
    events = sorted([(start, 1) for start, _ in spans.values()] + [(end, -1) for _, end in spans.values()],
                    key=lambda e: (e[0], -e[1]))
    most = current = 0
    for _, step in events:
        current += step
        most = max(most, current)
    return max(most, 1)
