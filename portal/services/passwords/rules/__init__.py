"""The portal's password rules: checked before a password goes to the directory, shown before typing.

Directories refuse short or recently used passwords but happily accept "Contoso2026!" or
"P@ssw0rd1"; these rules refuse what attackers try first: common passwords, the organization's
own name, the person's own name or login, passwords known from data breaches (when a Pwned
Passwords file or mirror is set: breached.py) and anything zxcvbn scores as guessable. Nothing is
trimmed or truncated: the password checked is the password written. The directory's own rules
(its minimum length, history, complexity) are shown alongside and enforced by the directory.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from ....adapters.directory.passwords import REFUSED_MESSAGE
from ....adapters.directory.passwords import refused as refused_characters
from ....settings.engine import Problem
from ....settings.passwords import PasswordSettings
from . import breached as breach_list
from .normalize import fold, variants, words_of

if TYPE_CHECKING:  # directory types are only read here
    from ....adapters.directory.model import DirectoryUser, PasswordPolicy

COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
# zxcvbn's cost grows with length and it refuses more than 72 characters; a longer password is
# scored by its first 72, a lower bound of its strength (adding characters never makes it weaker).
SCORED_LENGTH = 72


@dataclass(frozen=True)
class Violation:
    """One rule a password breaks: `code` for audit and tests, `message` for the person."""

    code: str
    message: str


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(line) for line in lines if line and not line.startswith("#"))


@functools.cache
def _zxcvbn() -> ModuleType:
    """zxcvbn builds its dictionaries when imported (about 14 MB and 0.3 s): only once a password
    is scored, so CLI commands and processes that never check one do not pay for them."""
    import zxcvbn

    return zxcvbn


def load_lists() -> None:
    """Build the password lists now: a preloading server does it before forking its workers, so
    they share one copy instead of each building its own at its first password (portal/workers.py)."""
    common_passwords()
    _zxcvbn()


@dataclass(frozen=True)
class Rule:
    """One rule as shown next to the password field. `check` names what the page's script can
    tick off while the person types ("length": `low` to `high` characters; "classes": `low` of the
    four kinds of character); "" when only the server can tell. The server checks every rule again."""

    text: str
    check: str = ""
    low: int = 0
    high: int = 0

    def __str__(self) -> str:
        """The words: a theme's rules partial written for plain texts (`{{ rule }}`) still shows them."""
        return self.text


@dataclass(frozen=True)
class PasswordRules:
    settings: PasswordSettings
    breached: breach_list.BreachedPasswords | None = None  # None: no [passwords.breached] list set

    @classmethod
    def load(cls, settings: PasswordSettings, problems: list[Problem]) -> PasswordRules:
        """Built once at start-up: a breached-passwords file is opened and checked now, and a
        Problem for it is appended (the portal does not start) when it cannot serve."""
        return cls(settings, breach_list.load(settings.breached, problems))

    def describe(self, policy: PasswordPolicy | None = None) -> list[str]:
        """The rules in the words shown next to the password field, before anyone types."""
        return [rule.text for rule in self.checklist(policy)]

    def checklist(self, policy: PasswordPolicy | None = None) -> list[Rule]:
        """The rules with what a browser may check of them as the person types (partials/password_rules.html)."""
        s = self.settings
        rules = [Rule(_("At least %(min)d characters (up to %(max)d). Spaces and any language's letters "
                        "are welcome: a passphrase of several unrelated words is easiest to remember.",
                        min=s.min_length, max=s.max_length), "length", s.min_length, s.max_length),
                 Rule(_("Not a common password, not even with letters swapped for look-alikes (P@ssw0rd).")),
                 Rule(_("Not your name or your user name."))]
        if self.breached is not None:
            rules.append(Rule(_("Not a password known from data breaches.")))
        if s.organization_terms:
            rules.append(Rule(_("Not the organization's name or products: %(terms)s.",
                                terms=", ".join(s.organization_terms))))
        if s.min_score:
            rules.append(Rule(_("Hard to guess: avoid keyboard patterns, dates and repeated characters.")))
        if policy is not None:
            rules += _directory_rules(policy, s.min_length, s.max_length)
        return rules

    def check(self, password: str, *, personal: Iterable[str] = ()) -> list[Violation]:
        """Every rule `password` breaks (empty: it may go to the directory).

        `personal` holds the person's login, display name and email addresses.
        """
        s = self.settings
        if len(password) < s.min_length:
            return [Violation("too_short", _("Use at least %(min)d characters.", min=s.min_length))]
        if len(password) > s.max_length:
            return [Violation("too_long", _("Use at most %(max)d characters.", max=s.max_length))]
        if refused_characters(password):
            return [Violation("control_character", str(REFUSED_MESSAGE))]
        forms = variants(password)
        names = set().union(*(words_of(text) for text in personal)) if personal else set()
        terms = {fold(term.strip()) for term in s.organization_terms}
        found = []
        if forms & common_passwords():
            found.append(Violation("common", _("This is one of the most common passwords, even with "
                                               "look-alike characters. Please choose another.")))
        if _contains_any(forms, terms):
            found.append(Violation("organization_term", _("Do not use the organization's name or "
                                                          "products in your password.")))
        if _contains_any(forms, names):
            found.append(Violation("personal", _("Do not use your name or user name in your password.")))
        refusal = self.breached.refusal(password) if self.breached is not None and not found else None
        if refusal is not None:
            found.append(Violation(refusal, breach_list.message(refusal)))
        if not found and s.min_score and _score(password, names | terms) < s.min_score:
            found.append(Violation("too_weak", _("This password is too easy to guess. Make it longer, "
                                                 "for example with a few more unrelated words.")))
        return found


def personal_words(user: DirectoryUser) -> list[str]:
    """What a person's password must not contain: their login, name and addresses."""
    return [text for text in (user.login, user.display_name, user.email, *user.alternate_emails) if text]


def _contains_any(forms: set[str], words: set[str]) -> bool:
    return any(word and word in form for form in forms for word in words)


def _score(password: str, user_inputs: set[str]) -> int:
    return int(_zxcvbn().zxcvbn(password[:SCORED_LENGTH], user_inputs=sorted(user_inputs))["score"])


def _directory_rules(policy: PasswordPolicy, portal_minimum: int, portal_maximum: int) -> list[Rule]:
    rules = []
    if policy.min_length > portal_minimum:
        rules.append(Rule(_("The directory asks for at least %(min)d characters.", min=policy.min_length),
                          "length", policy.min_length, portal_maximum))
    if policy.complexity:
        rules.append(Rule(_("Three of these four: upper-case letters, lower-case letters, digits, symbols."),
                          "classes", 3))
    if policy.history:
        rules.append(Rule(_("Not one of your last %(count)d passwords.", count=policy.history)))
    return rules
