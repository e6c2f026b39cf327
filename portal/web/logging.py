"""Structured (JSON) application logs on stdout, one object per line, with the request id.

Operators correlate a user's "it failed at 09:14" with the log through the request id, which the
portal also returns in the X-Request-ID header. Fields passed with `extra=` are logged as they are,
except names that could carry a secret, which are masked: logging a password must be impossible
even by mistake.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
SECRET_FIELD = re.compile(r"pass|secret|token|code|answer|otp|key", re.IGNORECASE)
STANDARD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context():
            entry["request_id"] = g.get("request_id")
            entry["path"] = request.path
        for name, value in vars(record).items():
            if name not in STANDARD_FIELDS and not name.startswith("_"):
                entry[name] = "[masked]" if SECRET_FIELD.search(name) else value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))


def install(app: Flask) -> None:
    @app.before_request
    def _request_id() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if INCOMING_ID.match(incoming) else secrets.token_hex(8)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response
