"""Application logs: one JSON object per line, with the request id, never a secret."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from flask import Flask

from portal.web.logging import JsonFormatter


def formatted(app: Flask, **extra: object) -> dict[str, object]:
    with app.test_request_context("/reset"):
        from flask import g

        g.request_id = "req-12345678"
        record = logging.LogRecord("portal.test", logging.INFO, __file__, 1, "reset started", (), None)
        for name, value in extra.items():
            setattr(record, name, value)
        return json.loads(JsonFormatter().format(record))


def test_log_lines_are_json_with_the_request_id(make_app: Callable[..., Flask]) -> None:
    entry = formatted(make_app(), user_id=7)
    assert entry["message"] == "reset started"
    assert entry["request_id"] == "req-12345678"
    assert entry["path"] == "/reset"
    assert entry["user_id"] == 7


@pytest.mark.parametrize("field", ["password", "new_password", "code", "client_secret", "answer", "otp", "api_key"])
def test_fields_that_could_hold_secrets_are_masked(make_app: Callable[..., Flask], field: str) -> None:
    assert formatted(make_app(), **{field: "hunter2"})[field] == "[masked]"


def test_the_request_id_is_returned_and_a_malformed_one_replaced(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "lb-abcdef12"}).headers["X-Request-ID"] == "lb-abcdef12"
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>id</script>"}).headers["X-Request-ID"]
    assert replaced != "<script>id</script>" and len(replaced) == 16
