"""The outbox: mail queued in the database reaches the real SMTP server, later if it is down, never
twice even with several worker processes, encrypted while it waits and erased once delivered."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from devstack.mailsink import MailSink
from portal import PROJECT_ROOT, clock
from portal.adapters.mail import Mail
from portal.services.messaging.outbox import Outbox
from portal.store.outbox import OutboxMessage
from tests.store_support import postgres_url  # noqa: F401 - fixture



def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def outbox_toml(port: int, **outbox: object) -> str:
    options = {"in_process_worker": "false", "retry_seconds": 60, "max_attempts": 3, **outbox}
    lines = "\n".join(f"{key} = {value}" for key, value in options.items())
    return f"""
[mail]
host = "127.0.0.1"
port = {port}
security = "none"
from_address = "passwords@example.test"

[outbox]
{lines}
"""


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def sink(port: int, tmp_path: Path) -> Iterator[MailSink]:
    with MailSink(port, tmp_path / "maildir") as server:
        yield server


def queue(app: Flask, count: int = 1, *, expires_in: timedelta | None = None, dedupe: str | None = None) -> list[bool]:
    outbox: Outbox = app.extensions["outbox"]
    with app.app_context(), app.extensions["store"].transaction() as db:
        expires_at = clock.utcnow() + expires_in if expires_in else None
        return [outbox.enqueue_mail(db, Mail(f"person{i}@mail.example", f"message {i}", f"secret text {i}"),
                                    purpose="test", expires_at=expires_at, dedupe_key=dedupe) for i in range(count)]


def rows(app: Flask) -> list[OutboxMessage]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_queued_mail_is_encrypted_until_delivered_then_erased(make_app: Callable[..., Flask], sink: MailSink,
                                                              port: int) -> None:
    app = make_app(outbox_toml(port))
    queue(app)
    [waiting] = rows(app)
    assert waiting.status == "pending" and waiting.payload
    assert "secret text" not in waiting.payload and "person0@mail.example" not in waiting.payload

    report = app.extensions["outbox"].deliver_due()

    assert report.sent == 1
    [message] = sink.messages()
    assert (message["To"], message["Subject"], message["From"]) == (
        "person0@mail.example", "message 0", "passwords@example.test")
    [sent] = rows(app)
    assert (sent.status, sent.payload, sent.attempts) == ("sent", None, 1)
    assert sent.sent_at is not None


def test_mail_waits_while_the_server_is_down_and_goes_out_once_it_is_back(
        make_app: Callable[..., Flask], port: int, tmp_path: Path) -> None:
    app = make_app(outbox_toml(port))
    outbox: Outbox = app.extensions["outbox"]
    queue(app)

    down = outbox.deliver_due()  # nothing listens on the port

    [waiting] = rows(app)
    assert (down.retrying, waiting.status, waiting.attempts) == (1, "pending", 1)
    assert "ConnectionRefusedError" in (waiting.last_error or "")
    assert outbox.deliver_due().retrying == 0  # not due again before its back-off
    with MailSink(port, tmp_path / "later") as sink, clock.travel(timedelta(seconds=61)):
        assert outbox.deliver_due().sent == 1
        assert [m["Subject"] for m in sink.messages()] == ["message 0"]
    assert rows(app)[0].status == "sent"


def test_the_outbox_gives_up_after_max_attempts(make_app: Callable[..., Flask], port: int) -> None:
    app = make_app(outbox_toml(port, max_attempts=2))
    outbox: Outbox = app.extensions["outbox"]
    queue(app)

    outbox.deliver_due()
    with clock.travel(timedelta(minutes=5)):
        report = outbox.deliver_due()

    assert report.failed == 1
    [given_up] = rows(app)
    assert (given_up.status, given_up.attempts, given_up.payload) == ("failed", 2, None)
    assert "gave up after 2 attempts" in (given_up.last_error or "")


class _Refusing:
    async def handle_RCPT(self, server: object, session: object, envelope: object, address: str,
                          options: list[str]) -> str:
        return "550 5.1.1 no such mailbox"


def test_a_refused_recipient_is_not_retried(make_app: Callable[..., Flask], port: int) -> None:
    refusing = Controller(_Refusing(), hostname="127.0.0.1", port=port)
    refusing.start()
    try:
        app = make_app(outbox_toml(port))
        queue(app)
        report = app.extensions["outbox"].deliver_due()
    finally:
        refusing.stop()

    assert report.failed == 1
    [refused] = rows(app)
    assert (refused.status, refused.last_error) == ("failed", "SMTP 550: recipient refused")


def test_a_code_that_expired_while_waiting_is_dropped_not_sent(make_app: Callable[..., Flask], sink: MailSink,
                                                                port: int) -> None:
    app = make_app(outbox_toml(port))
    queue(app, expires_in=timedelta(minutes=10))

    with clock.travel(timedelta(minutes=11)):
        report = app.extensions["outbox"].deliver_due()

    assert report.expired == 1 and sink.messages() == []
    assert (rows(app)[0].status, rows(app)[0].payload) == ("expired", None)


def test_a_dedupe_key_queues_a_message_once(make_app: Callable[..., Flask], sink: MailSink, port: int) -> None:
    app = make_app(outbox_toml(port))

    assert queue(app, dedupe="campaign:launch:alice") == [True]
    assert queue(app, dedupe="campaign:launch:alice") == [False]
    assert len(rows(app)) == 1


def test_the_in_process_worker_delivers_right_after_the_commit(make_app: Callable[..., Flask], sink: MailSink,
                                                               port: int) -> None:
    app = make_app(outbox_toml(port, in_process_worker="true"))

    queue(app, 3)

    sink.wait_for(lambda m: m["Subject"] == "message 2")
    assert sorted(m["Subject"] for m in sink.messages()) == ["message 0", "message 1", "message 2"]


def test_several_worker_processes_never_send_a_message_twice(
        make_app: Callable[..., Flask], settings_file: Callable[[str], Path], sink: MailSink, port: int,
        postgres_url: str) -> None:  # noqa: F811 - fixture
    environ = {"PORTAL_DATABASE__URL": postgres_url}
    app = make_app(outbox_toml(port), environ=environ)
    queue(app, 60)
    config = settings_file(outbox_toml(port))
    env = {**os.environ, **environ, "PORTAL_CONFIG": str(config)}

    workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "deliver"], cwd=PROJECT_ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(4)]
    outputs = [worker.communicate(timeout=120) for worker in workers]

    assert all(worker.returncode == 0 for worker in workers), outputs
    subjects = [m["Subject"] for m in sink.messages()]
    assert sorted(subjects) == sorted(f"message {i}" for i in range(60))  # every one, exactly once
    assert {row.status for row in rows(app)} == {"sent"}
    sent_per_worker = [int(out.split("sent ")[1].split(",")[0]) for out, _err in outputs]
    assert sum(sent_per_worker) == 60
    with app.app_context():
        app.extensions["store"].engine.dispose()


def test_settled_messages_older_than_keep_days_are_purged(make_app: Callable[..., Flask], sink: MailSink,
                                                          port: int) -> None:
    app = make_app(outbox_toml(port, keep_days=7))
    queue(app, 2)
    app.extensions["outbox"].deliver_due()
    queue(app, 1)  # still waiting: never purged

    runner = app.test_cli_runner()
    assert runner.invoke(args=["outbox", "purge"]).output == "removed 0 messages\n"
    with clock.travel(timedelta(days=8)):
        assert runner.invoke(args=["outbox", "purge"]).output == "removed 2 messages\n"
    assert [row.status for row in rows(app)] == ["pending"]


def test_a_dedicated_worker_process_delivers_until_it_is_stopped(
        make_app: Callable[..., Flask], settings_file: Callable[[str], Path], sink: MailSink, port: int) -> None:
    toml = outbox_toml(port, poll_seconds=1)
    app = make_app(toml)
    env = {**os.environ, "PORTAL_CONFIG": str(settings_file(toml))}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "run"], cwd=PROJECT_ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        queue(app, 2)
        sink.wait_for(lambda m: m["Subject"] == "message 1", timeout=15)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=15)

    assert worker.returncode == 0, err
    assert "outbox worker running" in out
    assert sorted(m["Subject"] for m in sink.messages()) == ["message 0", "message 1"]


class _Flaky:
    """Keeps what it receives and from which connection; answers 421 ("closing") to the sixth
    MAIL FROM and 451 (try later) to the first RCPT for person3, once each."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str]] = []   # (connection, recipient)
        self.mail_commands = 0
        self.refused: set[str] = set()

    async def handle_MAIL(self, server: object, session: object, envelope: Any, address: str,
                          options: list[str]) -> str:
        self.mail_commands += 1
        if self.mail_commands == 6:
            return "421 4.3.2 too many messages on this connection"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: object, session: object, envelope: Any, address: str,
                          options: list[str]) -> str:
        if address == "person3@mail.example" and address not in self.refused:
            self.refused.add(address)
            return "451 4.7.1 greylisted, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: Any, envelope: Any) -> str:
        self.received.extend((repr(session.peer), to) for to in envelope.rcpt_tos)
        return "250 OK"


def queue_distinct(app: Flask, count: int) -> None:
    """`count` campaign-like mails, each with its own dedupe key (sent at most once each)."""
    outbox: Outbox = app.extensions["outbox"]
    with app.app_context(), app.extensions["store"].transaction() as db:
        for i in range(count):
            outbox.enqueue_mail(db, Mail(f"person{i}@mail.example", f"message {i}", f"text {i}"), purpose="test",
                                dedupe_key=f"test:{i}")


@pytest.mark.parametrize("threads", [1, 3])
def test_a_batch_keeps_its_connection_and_a_failure_mid_batch_resends_nothing_that_went(
        make_app: Callable[..., Flask], port: int, threads: int) -> None:
    flaky = _Flaky()
    server = Controller(flaky, hostname="127.0.0.1", port=port)
    server.start()
    try:
        app = make_app(outbox_toml(port, delivery_threads=threads))
        outbox: Outbox = app.extensions["outbox"]
        queue_distinct(app, 20)

        first = outbox.deliver_due()
        with clock.travel(timedelta(seconds=61)):  # person3's back-off
            second = outbox.deliver_due()
    finally:
        server.stop()

    assert (first.sent, first.retrying, second.sent) == (19, 1, 1)
    recipients = [to for _connection, to in flaky.received]
    assert sorted(recipients) == sorted(f"person{i}@mail.example" for i in range(20))  # each once
    # 21 messages, over one connection per thread and round, plus one after each failure
    assert len({connection for connection, _to in flaky.received}) <= 2 * threads + 2
    assert {row.status for row in rows(app)} == {"sent"}
