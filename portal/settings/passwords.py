"""Settings of the portal's own password rules, applied before a password reaches the directory.

The directory's policy (length, history, complexity) still applies after these; the portal's
rules exist because directories do not refuse "Contoso2026!" or "P@ssw0rd1".
"""
from __future__ import annotations

from dataclasses import dataclass

from . import checks
from .engine import setting

# Lengths people may be asked for: a minimum under 8 is no rule, and a maximum under 64 would
# refuse passphrases (NIST SP 800-63B asks for at least 64).
MIN_LENGTH_RANGE = (8, 64)
MAX_LENGTH_RANGE = (64, 1024)


BREACHED_FORMATS = ("sha1", "ntlm")
UNAVAILABLE_CHOICES = ("accept", "refuse")


def _absolute_path(v: str) -> str | None:
    if v.startswith("/"):
        return None
    return f"must be an absolute path such as /var/lib/portal/pwned-passwords-sha1.txt (got {v!r})"


def _range_url(v: str) -> str | None:
    if v.count("{prefix}") != 1:
        return f"must contain {{prefix}} once, where the first 5 hex digits of the hash go (got {v!r})"
    return checks.web_url(v)


def _term(v: str) -> str | None:
    return None if len(v.strip()) >= 3 else f"must be a word of at least 3 characters (got {v!r})"


@dataclass(frozen=True, kw_only=True)
class BreachedSettings:
    """Passwords known from data breaches (Pwned Passwords), refused: from a downloaded file, or
    from a self-hosted range mirror that is only ever sent the first 5 hex digits of a hash."""

    file: str | None = setting(None, check=_absolute_path)
    range_url: str | None = setting(None, check=_range_url)
    format: str = setting("sha1", check=checks.one_of(BREACHED_FORMATS))
    min_count: int = setting(1, check=checks.between(1, 1_000_000))
    timeout_seconds: float = setting(2.0, check=checks.between(0.1, 10))
    # the mirror unreachable: "accept" (the other rules still apply) or "refuse" every new password
    on_unavailable: str = setting("accept", check=checks.one_of(UNAVAILABLE_CHOICES))


@dataclass(frozen=True, kw_only=True)
class PasswordSettings:
    min_length: int = setting(12, check=checks.between(*MIN_LENGTH_RANGE))
    max_length: int = setting(256, check=checks.between(*MAX_LENGTH_RANGE))
    min_score: int = setting(3, check=checks.between(0, 4))
    organization_terms: list[str] = setting([], check=checks.each(_term))
    breached: BreachedSettings = setting(BreachedSettings)


def cross_checks(settings: PasswordSettings) -> list[tuple[str, str]]:
    """A file and a mirror are two answers to one question: only one may be set."""
    if settings.breached.file and settings.breached.range_url:
        return [("passwords.breached.range_url", "set either file or range_url, not both")]
    return []
