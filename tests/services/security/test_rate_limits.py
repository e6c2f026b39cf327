"""Rate limits per IP, and budgets counted before they are judged, in memory and in Redis.

That limits hold across separate portal processes is shown in tests/deploy/test_scale_out.py.
"""
from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from limits.errors import StorageError

from portal.services.security.budgets import spend

REDIS = "redis://127.0.0.1:6379/15"


def test_sign_in_attempts_are_limited_per_ip(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    statuses = [client.get("/signin", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code
                for _ in range(31)]
    assert statuses[-1] == 429
    assert "Too many attempts" in client.get("/signin", environ_base={"REMOTE_ADDR": "198.51.100.7"}).get_data(as_text=True)
    assert client.get("/signin", environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code != 429


@pytest.mark.parametrize("storage", ["memory://", REDIS])
def test_parallel_uses_of_a_budget_are_counted_before_they_are_judged(make_app: Callable[..., Flask],
                                                                      storage: str) -> None:
    """30 requests at once against a budget of 5: exactly 5 get through, in memory and in Redis."""
    app = make_app(environ={"PORTAL_RATE_LIMITS__STORAGE_URI": storage})
    budgets = [("test-parallel", uuid.uuid4().hex, "5/hour"), ("test-parallel-ip", uuid.uuid4().hex, "100/hour")]
    start, allowed = threading.Barrier(30), []

    def use() -> None:
        with app.app_context():
            start.wait()
            allowed.append(spend(budgets))

    threads = [threading.Thread(target=use) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert allowed.count(True) == 5 and len(allowed) == 30


def test_budgets_refuse_when_their_storage_cannot_be_reached(make_app: Callable[..., Flask]) -> None:
    """A budget never lets a use through uncounted: no storage, no use (errors.py shows a 503)."""
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]  # nothing listens here once it is closed
    app = make_app(environ={"PORTAL_RATE_LIMITS__STORAGE_URI": f"redis://127.0.0.1:{port}/0"})
    with app.app_context(), pytest.raises(StorageError):
        spend([("test-unreachable", uuid.uuid4().hex, "5/hour")])
