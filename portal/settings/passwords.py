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


def _term(v: str) -> str | None:
    return None if len(v.strip()) >= 3 else f"must be a word of at least 3 characters (got {v!r})"


@dataclass(frozen=True, kw_only=True)
class PasswordSettings:
    min_length: int = setting(12, check=checks.between(*MIN_LENGTH_RANGE))
    max_length: int = setting(256, check=checks.between(*MAX_LENGTH_RANGE))
    min_score: int = setting(3, check=checks.between(0, 4))
    organization_terms: list[str] = setting([], check=checks.each(_term))
