"""[i18n]: the languages the portal offers and the one it falls back to.

A language is offered only where a catalogue exists (portal/translations/<code>/LC_MESSAGES/
messages.po; English is the source language and needs none), so a typo stops start-up instead
of showing English to people who chose "fr-CA"."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .engine import setting

SOURCE_LANGUAGE = "en"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def shipped_languages() -> tuple[str, ...]:
    """English plus every language with a catalogue, in code order."""
    found = sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    return (SOURCE_LANGUAGE, *(code for code in found if code != SOURCE_LANGUAGE))


def _languages(v: list[str]) -> str | None:
    shipped = shipped_languages()
    unknown = [code for code in v if code not in shipped]
    if unknown or not v:
        return f"must be a non-empty list of {', '.join(shipped)} (got {v!r})"
    return f"lists {sorted({c for c in v if v.count(c) > 1})} twice" if len(set(v)) != len(v) else None


@dataclass(frozen=True, kw_only=True)
class LanguageSettings:
    # in the order the language switcher shows them
    languages: list[str] = setting(["en", "fr", "de", "es"], check=_languages)
    default: str = setting(SOURCE_LANGUAGE)

    def cross_checks(self) -> list[tuple[str, str]]:
        if self.default not in self.languages:
            return [("i18n.default", f"must be one of i18n.languages ({', '.join(self.languages)}; got {self.default!r})")]
        return []
