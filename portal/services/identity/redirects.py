"""Where the portal may send a browser next: its own paths only, unless settings allow an origin.

Open redirects on a password portal are phishing kits: "sign in at passwords.contoso.com, then
land on a look-alike that asks for your password again".
"""
from __future__ import annotations

import unicodedata


def safe_next_path(value: str | None, default: str = "/") -> str:
    """A path on this site (`/register?x=1`), or `default` for anything that could leave it."""
    if not value or len(value) > 2048:
        return default
    if any(unicodedata.category(ch)[0] in "CZ" and ch != " " for ch in value) or " " in value:
        return default
    if not value.startswith("/") or value.startswith(("//", "/\\")) or "\\" in value:
        return default
    return value
