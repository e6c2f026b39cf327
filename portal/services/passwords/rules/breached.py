"""Refuse passwords known from data breaches: attackers try those lists before anything else.

The list is Pwned Passwords, either the file IT downloads (hashfile.py: searched in place) or a
self-hosted range mirror (adapters/pwned_range.py: k-anonymity). Either way only a hash of the
password is compared, and neither the password nor its hash is ever logged.

A mirror that cannot answer leaves a choice (`on_unavailable`). The default is "accept": the
other rules (common passwords, names, zxcvbn) and the directory's own policy still apply, while
refusing every new password during a mirror outage would turn it into a portal outage and send
everyone who is locked out to the helpdesk. "refuse" is for those who prefer that; each outage
is logged as a warning either way.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from flask_babel import gettext as _

from ....adapters.pwned_range import RangeMirror, RangeUnavailable
from ....settings.engine import Problem
from ....settings.passwords import BreachedSettings
from .digests import DIGESTS
from .hashfile import HashFile, HashFileError

log = logging.getLogger(__name__)
FILE_KEY = "passwords.breached.file"


class HashCounts(Protocol):
    """What the rule asks a list (the file or the mirror): how often a hash was seen, 0 never."""

    def count(self, key: bytes) -> int: ...


BREACHED = "breached"
UNCHECKED = "breached_unchecked"


@dataclass(frozen=True)
class BreachedPasswords:
    settings: BreachedSettings
    source: HashCounts

    def refusal(self, password: str) -> str | None:
        """The violation's code when the list refuses `password` (BREACHED, or UNCHECKED when the
        mirror did not answer and the settings refuse then), else None."""
        key = DIGESTS[self.settings.format](password)
        try:
            seen = self.source.count(key)
        except RangeUnavailable as error:
            refuse = self.settings.on_unavailable == "refuse"
            log.warning("breached passwords not checked (%s); the password was %s", error,
                        "refused" if refuse else "accepted without this check")
            return UNCHECKED if refuse else None
        return BREACHED if seen >= self.settings.min_count else None


def message(code: str) -> str:
    """The sentence for the person, for a code `refusal` returned."""
    if code == BREACHED:
        return _("This password has appeared in a data breach, so attackers try it early. "
                 "Please choose another.")
    return _("New passwords cannot be checked right now. Please try again in a few minutes.")


def load(settings: BreachedSettings, problems: list[Problem]) -> BreachedPasswords | None:
    """The list the settings name, opened and checked now (start-up), or None when none is set;
    a file that cannot serve appends the Problem that stops the portal."""
    if settings.range_url:
        return BreachedPasswords(settings, RangeMirror(settings.range_url, settings.timeout_seconds))
    if not settings.file:
        return None
    try:
        return BreachedPasswords(settings, HashFile(Path(settings.file), settings.format))
    except HashFileError as error:
        problems.append(Problem(settings.file, FILE_KEY, str(error)))
        return None
