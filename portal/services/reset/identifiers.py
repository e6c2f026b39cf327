"""The name a person types to say which account they mean: asked for as typed, counted folded.

Which entry a name means is the directory's decision, under its own matching rules, so the
directory is asked for exactly what was typed (only trimmed). Folding it first would make the
portal decide instead: Python's case fold maps "ß" to "ss" and NFKC maps "ǅ" to "Dž", folds the
directories do not make, so "straße" would reach the account "strasse".

A fold is still right for COUNTING: limits and pauses of a name that matches nobody are keyed by
NFKC + case fold, so "Alice", "ALICE" and a full-width "ａｌｉｃｅ" share one budget (an account
that is found is counted by its directory id instead, every alias together). The fold never
chooses an entry. Control and format characters (zero-width joiners, direction overrides, NUL)
are refused rather than removed: a name that needs them is not a name anyone types, and
stripping them would let two inputs that look different count as different names.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

MAX_LENGTH = 256
REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


class InvalidIdentifier(ValueError):
    """Not a login name or email address; `message` says what to type instead."""

    message = _l("Enter your user name or your work email address, without spaces or special characters.")


def counting_form(name: str) -> str:
    """The form limits count a name under: look-alikes and case variants together. Never a lookup."""
    return unicodedata.normalize("NFKC", name).casefold()


@dataclass(frozen=True)
class Identifier:
    """A typed login name or email: `typed` goes to the directory, `counted` keys the limits."""

    typed: str

    @property
    def counted(self) -> str:
        return counting_form(self.typed)


def parse_identifier(typed: str | None) -> Identifier:
    """The typed name, trimmed; InvalidIdentifier if it cannot be a login name or email."""
    if typed is None:
        raise InvalidIdentifier()
    if any(unicodedata.category(ch) in REFUSED_CATEGORIES for ch in typed):
        raise InvalidIdentifier()
    name = typed.strip()
    if not name or len(name) > MAX_LENGTH or any(ch.isspace() for ch in name):
        raise InvalidIdentifier()
    return Identifier(name)
