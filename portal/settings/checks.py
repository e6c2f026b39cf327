"""Reusable rules for settings values; each returns None or the sentence naming what is allowed."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from .engine import Check

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def one_of(allowed: Iterable[str]) -> Check:
    allowed = tuple(allowed)
    return lambda v: None if v in allowed else f"must be one of {', '.join(allowed)} (got {v!r})"


def between(low: float, high: float) -> Check:
    return lambda v: None if low <= v <= high else f"must be between {low} and {high} (got {v})"


def each(check: Check) -> Check:
    def run(values: Iterable[Any]) -> str | None:
        return next((m for m in (check(v) for v in values) if m), None)
    return run


def non_empty(v: Any) -> str | None:
    return None if v else "must not be empty"


def web_url(v: str, *, path_allowed: bool = True) -> str | None:
    """An absolute https URL, or http on the loopback for development."""
    parts = urlsplit(v)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"must be an absolute https:// URL (got {v!r})"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return f"must use https:// (http:// is allowed only for 127.0.0.1 or localhost; got {v!r})"
    if parts.username or parts.password:
        return f"must not contain a user name or password (got {v!r})"
    if not path_allowed and (parts.path not in ("", "/") or parts.query or parts.fragment):
        return f"must be an origin such as https://apps.example.com, without a path (got {v!r})"
    return None


def origin_url(v: str) -> str | None:
    return web_url(v, path_allowed=False)


def base_url(v: str) -> str | None:
    message = web_url(v)
    if message is None and (urlsplit(v).query or urlsplit(v).fragment):
        return f"must not have a query or fragment (got {v!r})"
    return message


HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


def host_name(v: str) -> str | None:
    return None if HOSTNAME.match(v) else f"must be a lower-case host name such as passwords.contoso.com (got {v!r})"


NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def simple_name(v: str) -> str | None:
    return None if NAME.match(v) else f"must be a simple name of letters a-z, digits, - and _ (got {v!r})"
