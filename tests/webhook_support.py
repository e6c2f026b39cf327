"""A real HTTP receiver of signed webhooks for tests: it verifies every delivery with the
`standardwebhooks` library (as an integrator's receiver would) and de-duplicates by webhook-id.

It runs `http.server` in a thread on a fixed port, so a test can stop it (the endpoint is down),
start it again on the same port (it is back), or have it answer with an error status.
"""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.services.messaging.test_outbox import free_port


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Received:
    id: str
    body: str
    event: dict[str, Any]
    status: int  # what the receiver answered


@dataclass
class WebhookReceiver:
    """Every verified POST in `posts`, whatever it answered; `answers` are the statuses to give the
    next POSTs (then 204); a POST whose signature does not verify gets 401 and is kept in
    `refused`. `on_post(number)` runs as POST number n (from 1) arrives, before it is answered."""

    port: int
    secret: str = field(default_factory=new_secret)
    posts: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    on_post: Callable[[int], None] | None = None
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/portal"

    def toml(self, events: list[str] | None = None, url: str | None = None) -> str:
        events = events or ["password.reset", "password.changed", "account.unlocked", "registration.changed",
                            "reset.paused", "enforcement.deadline_passed"]
        return f'[[webhooks]]\nurl = "{url or self.url}"\nsecret = "{self.secret}"\nevents = {json.dumps(events)}\n'

    @property
    def received(self) -> list[Received]:
        """The POSTs it accepted (answered 2xx), repeats too."""
        return [each for each in self.posts if 200 <= each.status < 300]

    def unique(self) -> dict[str, Received]:
        """What a receiver that de-duplicates by webhook-id keeps."""
        return {each.id: each for each in self.received}

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Until `count` deliveries were accepted (the in-process worker sends them in the background)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
                try:
                    event = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                except WebhookVerificationError as error:
                    receiver.refused.append(str(error))
                    self._answer(401)
                    return
                status = receiver.answers.pop(0) if receiver.answers else 204
                receiver.posts.append(Received(self.headers["webhook-id"], body, event, status))
                if receiver.on_post is not None:
                    receiver.on_post(len(receiver.posts))
                self._answer(status)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                """Quiet: pytest shows what the tests assert."""

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="webhook-receiver").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver(free_port()).start()
    yield started
    started.stop()
