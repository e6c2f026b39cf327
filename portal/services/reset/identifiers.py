"""The name a person types to say which account they mean, normalized once.

NFKC folds look-alike forms (full-width letters, ligatures) and case-folding makes "Alice" and
"ALICE" one name, so limits and pauses count them together. Control and format characters
(zero-width joiners, direction overrides, NUL) are refused rather than removed: a name that
needs them is not a name anyone types, and stripping them would let two inputs that look
different count as different accounts.
"""
from __future__ import annotations

import unicodedata

from flask_babel import lazy_gettext as _l

MAX_LENGTH = 256
REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


class InvalidIdentifier(ValueError):
    """Not a login name or email address; `message` says what to type instead."""

    message = _l("Enter your user name or your work email address, without spaces or special characters.")


def normalize_identifier(typed: str) -> str:
    """The canonical form of a typed login name or email; InvalidIdentifier if it cannot be one."""
    if typed is None:
        raise InvalidIdentifier()
    if any(unicodedata.category(ch) in REFUSED_CATEGORIES for ch in typed):
        raise InvalidIdentifier()
    name = unicodedata.normalize("NFKC", typed).strip().casefold()
    if not name or len(name) > MAX_LENGTH or any(ch.isspace() for ch in name):
        raise InvalidIdentifier()
    return name
