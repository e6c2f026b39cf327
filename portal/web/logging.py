"""Structured (JSON) application logs on stdout, one object per line, with the request id.

Operators correlate a user's "it failed at 09:14" with the log through the request id, which the
portal also returns in the X-Request-ID header. Fields passed with `extra=` are logged as they are,
except names that could carry a secret, which are masked: logging a password must be impossible
even by mistake.

URLs carry secrets in their query (the provider's `code` and `state` on /auth/callback, keys in
a configured webhook URL), and servers log request lines: Flask's development server on the
`werkzeug` logger, gunicorn on `gunicorn.access` and `gunicorn.error` (its own handlers). One
filter, on the portal's handler and on those loggers, keeps the names of query parameters and
replaces every value, in the message, in `extra=` fields and in exception texts.
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
SERVER_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")
QUERY = re.compile(r"\?([^\s\"'#<>]+)")
REDACTED = "[redacted]"


def redact_queries(text: str) -> str:
    """`text` with the value of every URL query parameter replaced: `?code=abc&x` -> `?code=[redacted]&[redacted]`."""
    if "?" not in text:  # no query (most lines: every access line of a page without one), nothing to replace
        return text
    return QUERY.sub(lambda match: "?" + "&".join(_redact_parameter(p) for p in match.group(1).split("&")), text)


def _redact_parameter(parameter: str) -> str:
    name, equals, _value = parameter.partition("=")
    return f"{name}={REDACTED}" if equals else REDACTED


class RedactQueries(logging.Filter):
    """Takes query values out of a record before any handler formats it (changes it in place)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and isinstance(record.args.get("q"), str):
            record.args["q"] = redact_queries(f"?{record.args['q']}")[1:]  # gunicorn's %(q)s: a query without "?"
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - arguments that do not fit the message: never raise from logging
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact_queries(message), None
        for name in vars(record).keys() - STANDARD_FIELDS:  # the `extra=` fields
            value = getattr(record, name)
            if isinstance(value, str):
                setattr(record, name, redact_queries(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_queries(record.exc_text)
        return True


REDACT_QUERIES = RedactQueries()


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
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(REDACT_QUERIES)
    for name in SERVER_LOGGERS:  # their records may never reach the handler above
        logging.getLogger(name).addFilter(REDACT_QUERIES)
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
