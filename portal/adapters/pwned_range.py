"""A Pwned Passwords range mirror (k-anonymity): send 5 hex digits of a hash, get every suffix.

The mirror answers GET `<range_url with {prefix}>` with `SUFFIX:COUNT` lines (CRLF or LF), the
suffixes of every known hash that starts with the prefix. Only the prefix leaves the portal,
shared by hundreds of hashes, so the mirror learns nothing usable about the password. Padding is
asked for (`Add-Padding: true`): the answer then also holds made-up suffixes with count 0, so its
size says nothing either; those lines are not hashes anyone used and are ignored.

One plain request per check (no pooled connections to carry across a fork), no redirects (a
mirror that redirects is misconfigured), and a bounded wait: anything but a well-formed 200 in
time is `RangeUnavailable`, and the rule decides what that means (settings `on_unavailable`).
"""
from __future__ import annotations

import re

import requests

PREFIX_LENGTH = 5
_LINE = re.compile(r"([0-9A-Fa-f]+):([0-9]+)")


class RangeUnavailable(Exception):
    """No usable answer from the mirror (down, slow, an error status, not the range format)."""


class RangeMirror:
    def __init__(self, url: str, timeout_seconds: float) -> None:
        self.url = url
        self.timeout_seconds = timeout_seconds

    def count(self, key: bytes) -> int:
        """How often the upper-case hex hash `key` was seen in breaches, asking only for its prefix."""
        text = key.decode("ascii")
        prefix, suffix = text[:PREFIX_LENGTH], text[PREFIX_LENGTH:]
        try:
            response = requests.get(self.url.replace("{prefix}", prefix), timeout=self.timeout_seconds,
                                    headers={"Add-Padding": "true"}, allow_redirects=False)
        except requests.RequestException as error:
            raise RangeUnavailable(f"range mirror unreachable: {type(error).__name__}") from error
        if response.status_code != 200:
            raise RangeUnavailable(f"range mirror answered HTTP {response.status_code}")
        return _count_in(response.text, suffix)


def _count_in(body: str, suffix: str) -> int:
    """The count listed for `suffix` (0: not listed, or a padding line)."""
    for line in body.splitlines():
        match = _LINE.fullmatch(line.strip())
        if match is None:
            if line.strip():
                raise RangeUnavailable("range mirror answered something other than SUFFIX:COUNT lines")
            continue
        if match.group(1).upper() == suffix:
            return int(match.group(2))
    return 0
