"""Rate limits hold across portal processes when their storage is Redis."""
from __future__ import annotations

import uuid
from collections.abc import Callable

import redis
from flask import Flask

REDIS = "redis://127.0.0.1:6379/15"


def test_sign_in_attempts_are_limited_per_ip(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    statuses = [client.get("/signin", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code
                for _ in range(31)]
    assert statuses[-1] == 429
    assert "Too many attempts" in client.get("/signin", environ_base={"REMOTE_ADDR": "198.51.100.7"}).get_data(as_text=True)
    assert client.get("/signin", environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code != 429


def test_limits_are_shared_across_processes_through_redis(make_app: Callable[..., Flask]) -> None:
    redis.Redis.from_url(REDIS).flushdb()
    environ = {"PORTAL_RATE_LIMITS__STORAGE_URI": REDIS}
    first, second = make_app(environ=environ), make_app(environ=environ)
    address = f"198.51.100.{uuid.uuid4().int % 200 + 1}"
    for _ in range(30):
        assert first.test_client().get("/signin", environ_base={"REMOTE_ADDR": address}).status_code != 429
    assert second.test_client().get("/signin", environ_base={"REMOTE_ADDR": address}).status_code == 429
