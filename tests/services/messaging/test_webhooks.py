"""Signed webhooks through the outbox, to a real HTTP receiver that verifies every signature with
the `standardwebhooks` library: delivered, retried while the receiver is down or failing, given up
after max_attempts, each event once per endpoint with several workers and after a worker is killed."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from portal import PROJECT_ROOT, clock
from portal.adapters.directory import DirectoryUser
from portal.services.messaging import webhooks
from portal.services.messaging.outbox import Outbox
from portal.store.outbox import OutboxMessage
from tests.store_support import postgres_url  # noqa: F401 - fixture
from tests.support import SECRET_KEY
from tests.webhook_support import WebhookReceiver, receiver  # noqa: F401 - fixture

ALICE = DirectoryUser(dn="uid=alice,ou=people,dc=example,dc=test", directory_id="2f7c-alice", login="alice",
                      display_name="Alice Example")


def webhook_toml(receiver: WebhookReceiver, *, max_attempts: int = 3, events: list[str] | None = None,
                 extra: str = "") -> str:
    """The outbox without its in-process worker (the tests deliver), and the receiver as the endpoint."""
    return f"""
[outbox]
in_process_worker = false
retry_seconds = 60
max_attempts = {max_attempts}
{extra}
{receiver.toml(events)}"""


def emit(app: Flask, event: str = webhooks.PASSWORD_RESET, count: int = 1, **data: str) -> None:
    outbox: Outbox = app.extensions["outbox"]
    with app.app_context(), app.extensions["store"].transaction() as db:
        for _ in range(count):
            webhooks.emit(db, outbox, event, ALICE, **data)


def rows(app: Flask) -> list[OutboxMessage]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def deliver(app: Flask) -> tuple[int, int, int]:
    report = app.extensions["outbox"].deliver_due()
    return report.sent, report.retrying, report.failed


def test_an_event_reaches_the_receiver_signed_and_typed(make_app: Callable[..., Flask],
                                                         receiver: WebhookReceiver) -> None:
    app = make_app(webhook_toml(receiver))
    emit(app, webhooks.RESET_PAUSED, until="2026-12-01T10:00:00Z")

    assert deliver(app) == (1, 0, 0)

    [got] = receiver.received
    assert receiver.refused == []  # the library verified the signature
    assert got.id.startswith("msg_")
    assert got.event["type"] == "reset.paused"
    assert got.event["data"] == {"user": "alice", "user_id": "2f7c-alice", "until": "2026-12-01T10:00:00Z"}
    assert got.event["timestamp"].endswith("Z")
    [row] = rows(app)
    assert (row.channel, row.purpose, row.endpoint, row.status, row.attempts, row.payload) == (
        "webhook", "reset.paused", receiver.url, "sent", 1, None)


def test_the_body_holds_no_secret_and_the_queue_holds_it_sealed(make_app: Callable[..., Flask],
                                                                 receiver: WebhookReceiver) -> None:
    app = make_app(webhook_toml(receiver))
    emit(app, webhooks.PASSWORD_CHANGED)
    [waiting] = rows(app)
    assert waiting.payload and "alice" not in waiting.payload  # encrypted at rest, like mail

    deliver(app)

    [got] = receiver.received
    for secret in (receiver.secret, receiver.secret.removeprefix("whsec_"), SECRET_KEY):
        assert secret not in got.body
    assert set(got.event) == {"type", "timestamp", "data"}


def test_data_that_could_carry_a_secret_is_refused(make_app: Callable[..., Flask], receiver: WebhookReceiver) -> None:
    app = make_app(webhook_toml(receiver))
    for name in ("code", "new_password", "answer", "token"):
        with pytest.raises(ValueError, match="could carry a secret"):
            emit(app, **{name: "x"})
    assert rows(app) == []


def test_only_endpoints_that_asked_for_an_event_get_it(make_app: Callable[..., Flask],
                                                       receiver: WebhookReceiver) -> None:
    app = make_app(webhook_toml(receiver, events=["password.changed"]))
    emit(app, webhooks.PASSWORD_RESET)
    emit(app, webhooks.PASSWORD_CHANGED)

    deliver(app)

    assert [got.event["type"] for got in receiver.received] == ["password.changed"]


def test_a_receiver_that_is_down_gets_the_event_once_it_is_back(make_app: Callable[..., Flask],
                                                                receiver: WebhookReceiver) -> None:
    app = make_app(webhook_toml(receiver))
    emit(app)
    receiver.stop()

    assert deliver(app) == (0, 1, 0)
    [waiting] = rows(app)
    assert (waiting.status, waiting.attempts) == ("pending", 1)
    assert "ConnectionError" in (waiting.last_error or "")
    assert deliver(app) == (0, 0, 0)  # not due again before its back-off

    receiver.start()
    with clock.travel(timedelta(seconds=61)):
        assert deliver(app) == (1, 0, 0)
    assert len(receiver.received) == 1 and rows(app)[0].status == "sent"


def test_an_error_answer_is_retried_with_the_same_id_and_body(make_app: Callable[..., Flask],
                                                              receiver: WebhookReceiver) -> None:
    app = make_app(webhook_toml(receiver))
    receiver.answers = [500, 503]
    emit(app)

    assert deliver(app) == (0, 1, 0)
    assert rows(app)[0].last_error == "endpoint answered HTTP 500"
    with clock.travel(timedelta(seconds=61)):
        assert deliver(app) == (0, 1, 0)  # 503
    with clock.travel(timedelta(seconds=61 + 121)):  # the back-off doubled
        assert deliver(app) == (1, 0, 0)

    assert [post.status for post in receiver.posts] == [500, 503, 204]
    assert len({post.id for post in receiver.posts}) == 1 and len({post.body for post in receiver.posts}) == 1
    assert (rows(app)[0].status, rows(app)[0].attempts) == ("sent", 3)


def test_the_outbox_gives_up_after_max_attempts(make_app: Callable[..., Flask], receiver: WebhookReceiver) -> None:
    app = make_app(webhook_toml(receiver, max_attempts=2))
    receiver.answers = [500, 500]
    emit(app)

    deliver(app)
    with clock.travel(timedelta(seconds=61)):
        assert deliver(app) == (0, 0, 1)

    [given_up] = rows(app)
    assert (given_up.status, given_up.attempts, given_up.payload) == ("failed", 2, None)
    assert given_up.last_error == "gave up after 2 attempts: endpoint answered HTTP 500"


def test_a_receiver_with_another_secret_refuses_and_the_event_is_retried(
        make_app: Callable[..., Flask], receiver: WebhookReceiver) -> None:
    app = make_app(webhook_toml(receiver))
    real = receiver.secret
    receiver.secret = "whsec_" + "A" * 43 + "="  # the receiver expects another key
    emit(app)

    assert deliver(app) == (0, 1, 0)
    assert receiver.refused == ["No matching signature found"]
    receiver.secret = real
    with clock.travel(timedelta(seconds=61)):
        assert deliver(app) == (1, 0, 0)


def test_an_endpoint_removed_from_the_settings_is_given_up(make_app: Callable[..., Flask],
                                                           receiver: WebhookReceiver) -> None:
    app = make_app(webhook_toml(receiver))
    emit(app)
    later = make_app(webhook_toml(receiver, events=["password.changed"]).replace(receiver.url, receiver.url + "/new"))

    assert deliver(later) == (0, 0, 1)
    assert rows(later)[0].last_error == "the endpoint is no longer in [[webhooks]]"
    assert receiver.posts == []


def worker_env(settings_file: Callable[[str], Path], toml: str, environ: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **environ, "PORTAL_CONFIG": str(settings_file(toml))}


def test_several_worker_processes_deliver_each_event_once(
        make_app: Callable[..., Flask], settings_file: Callable[[str], Path], receiver: WebhookReceiver,
        postgres_url: str) -> None:  # noqa: F811 - fixture
    environ = {"PORTAL_DATABASE__URL": postgres_url}
    toml = webhook_toml(receiver)
    app = make_app(toml, environ=environ)
    emit(app, count=40)
    env = worker_env(settings_file, toml, environ)

    workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "deliver"], cwd=PROJECT_ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    outputs = [worker.communicate(timeout=120) for worker in workers]

    assert all(worker.returncode == 0 for worker in workers), outputs
    assert sorted(Counter(post.id for post in receiver.posts).values()) == [1] * 40  # every one, exactly once
    assert {row.status for row in rows(app)} == {"sent"}
    assert sum(int(out.split("sent ")[1].split(",")[0]) for out, _err in outputs) == 40
    with app.app_context():
        app.extensions["store"].engine.dispose()


def test_a_worker_killed_mid_delivery_is_resumed_and_the_receiver_keeps_each_event_once(
        make_app: Callable[..., Flask], settings_file: Callable[[str], Path], receiver: WebhookReceiver) -> None:
    """The kill comes at the worst moment: the receiver has the event and has not answered, so the
    worker cannot know it arrived. After the lease it is sent again, with the same id and body."""
    toml = webhook_toml(receiver, extra="delivery_threads = 1")
    app = make_app(toml)
    emit(app, count=10)
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "deliver"], cwd=PROJECT_ROOT,
                              env=worker_env(settings_file, toml, {}), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    receiver.on_post = lambda number: os.kill(worker.pid, signal.SIGKILL) if number == 5 else None
    assert worker.wait(60) == -signal.SIGKILL
    receiver.on_post = None
    assert len(receiver.posts) == 5

    lease = app.extensions["settings"].outbox.lease_seconds
    with clock.travel(timedelta(seconds=lease + 1)):
        assert deliver(app) == (6, 0, 0)  # the one in flight, and the five never started

    kept = receiver.unique()
    assert len(kept) == 10 and len(receiver.posts) == 11
    [(again, twice)] = [(post_id, n) for post_id, n in Counter(post.id for post in receiver.posts).items() if n > 1]
    assert twice == 2 and len({post.body for post in receiver.posts if post.id == again}) == 1
    assert {row.status for row in rows(app)} == {"sent"}
    assert [json.loads(post.body)["type"] for post in kept.values()] == ["password.reset"] * 10
