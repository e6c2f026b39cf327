"""Where /enforce may send a browser back to: absolute URLs on an allow-listed origin, nothing else.

Browsers and Python disagree on edge cases of URL parsing (backslashes, tabs, user info, percent
escapes in the host), and every disagreement is a way out to an attacker's site. So anything a
browser could read differently is refused before parsing, and what remains is compared as an
exact origin (scheme, host, port) against the allow-list, never by prefix or suffix.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}
# Printable ASCII except space, double quote and backslash: control characters, tabs and
# non-ASCII (IDN look-alikes; an allowed origin is written in ASCII/punycode) are all refused.
ALLOWED_CHARS = re.compile(r"^[!#-\[\]-~]+$")
AUTHORITY_END = re.compile(r"[/?#]")
MAX_LENGTH = 2048


def origin_of(url: str) -> str | None:
    """`scheme://host:port` with the port always written, or None for anything but http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.hostname}:{port or DEFAULT_PORTS[parts.scheme]}"


def allowed_return_url(value: str | None, origins: Iterable[str]) -> str | None:
    """`value` when it is safe to redirect to, else None (the caller logs and goes home)."""
    if not value or len(value) > MAX_LENGTH or not ALLOWED_CHARS.match(value):
        return None
    scheme, separator, rest = value.partition("://")
    if not separator or scheme.lower() not in DEFAULT_PORTS:
        return None
    authority = AUTHORITY_END.split(rest, maxsplit=1)[0]
    # user info (`good.com@evil.com`) and percent escapes (which a browser may decode) are refused
    if not authority or "@" in authority or "%" in authority:
        return None
    parts = urlsplit(value)
    if parts.netloc != authority or not parts.hostname or parts.hostname.endswith("."):
        return None
    origin = origin_of(value)
    allowed = {origin_of(o.lower()) for o in origins}
    return value if origin is not None and origin in allowed else None
