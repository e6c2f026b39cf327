"""The translations each page and mail is rendered with: the shipped catalogue of a language, with
the theme's own wording for it laid over (`branding/<theme>/messages/<language>.toml`).

Catalogues are compiled from the .po files in memory at start-up (no .mo files to build, commit or
forget on a server): the .po files translators edit are the only copy. A theme's overrides map an
English message (the msgid, as in portal/translations/messages.pot, one of the theme's own texts
from theme.toml, or a custom security question from the settings) to its wording in that language, e.g. in `messages/fr.toml`:

    "Reset my password" = "Réinitialiser mon mot de passe"

They are checked when the portal starts, like theme.toml: a file for a language the portal does not
ship, an empty text, or a text that loses a placeholder of the message (`%(name)s`) stops start-up
with one line; an English text that is not (or no longer) a message or a theme text gets a warning.
"""
from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from io import BytesIO
from pathlib import Path

from babel import negotiate_locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import current_app
from flask_babel import get_locale
from werkzeug.datastructures import LanguageAccept

from ..settings import Problem
from ..settings.languages import SOURCE_LANGUAGE, TRANSLATIONS, shipped_languages
from .registry import current_theme
from .theme import Theme, ThemeFile

log = logging.getLogger(__name__)
TEMPLATE = TRANSLATIONS / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def negotiate(accepted: LanguageAccept, offered: list[str]) -> str | None:
    """The first offered language in the order of `accepted` (an Accept-Language header, or a
    directory's preferredLanguage in the same form), a region falling back on its language:
    "de-CH, fr;q=0.5" is German where "de" is offered. (Werkzeug's best_match prefers any exact
    match, here French, to a lower-ranked region match.)"""
    return negotiate_locale([value for value, quality in accepted if quality > 0], offered, sep="-")


def placeholders(text: str) -> set[str]:
    """The named placeholders a message holds: `%(name)s` for gettext, `{name}` for str.format."""
    return {"".join(match) for match in PLACEHOLDER.findall(text)}


@dataclass(frozen=True)
class Catalogues:
    """(theme name, language) -> the translations to render with; built once, read per request."""

    translations: dict[tuple[str, str], Translations]
    brands: dict[tuple[str, str], ThemeFile]  # each theme's file, translated (`brand` in templates)
    default: str

    @classmethod
    def load(cls, languages: list[str], default: str, themes: dict[str, Theme], settings_texts: list[str],
             problems: list[Problem]) -> Catalogues:
        """`settings_texts`: texts people see that the settings hold (custom security questions),
        which a theme may translate too."""
        with TEMPLATE.open("rb") as handle:
            msgids = _msgids(read_po(handle))
        shipped = {code: _compiled(_shipped(code)) for code in languages}
        built: dict[tuple[str, str], Translations] = {}
        brands: dict[tuple[str, str], ThemeFile] = {}
        for theme in themes.values():
            overrides = _overrides(theme, languages, msgids | set(settings_texts) | _theme_texts(theme.file), problems)
            for code in languages:
                compiled = built[(theme.name, code)] = _with_overrides(shipped[code], code, overrides.get(code, {}))
                brands[(theme.name, code)] = translated(theme.file, compiled.ugettext)
        return cls(built, brands, default)

    def get(self, theme: str, language: str) -> Translations:
        """The theme's translations in `language` (a language not offered: the default's)."""
        found = self.translations.get((theme, language))
        return found if found is not None else self.translations[(theme, self.default)]

    def brand(self, theme: str, language: str) -> ThemeFile:
        """The theme's file with its texts in `language` (a language not offered: the default's)."""
        found = self.brands.get((theme, language))
        return found if found is not None else self.brands[(theme, self.default)]


def _msgids(catalog: Catalog) -> set[str]:
    """The singular messages of a catalogue (plural ones are not overridable by a theme)."""
    return {m.id for m in catalog if m.id and isinstance(m.id, str)}


def _shipped(code: str) -> Catalog:
    if code == SOURCE_LANGUAGE:
        return Catalog(locale=code)
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=code)


def translated(file: ThemeFile, translate: Callable[[str], str]) -> ThemeFile:
    """The theme file with each of its texts translated: what pages and mails get as `brand`.
    Texts IT wrote itself come back as written unless the theme's messages/ give a translation;
    the built-in defaults ("Manage your password"...) are in the shipped catalogue."""
    def t(text: str) -> str:
        return translate(text) if text else text  # gettext("") is the catalogue's header

    return replace(
        file, organization=t(file.organization), portal_title=t(file.portal_title), logo_alt=t(file.logo_alt),
        footer=t(file.footer), helpdesk=replace(file.helpdesk, name=t(file.helpdesk.name), hours=t(file.helpdesk.hours)),
        texts=replace(file.texts, **{key: t(text) for key, text in vars(file.texts).items()}),
        blocks=[replace(block, title=t(block.title), body=t(block.body)) for block in file.blocks],
        links=[replace(link, label=t(link.label)) for link in file.links])


def _theme_texts(file: ThemeFile) -> set[str]:
    """The theme's own texts (theme.toml), which a theme's messages/ may translate."""
    seen: set[str] = set()

    def record(text: str) -> str:
        seen.add(text)
        return text

    translated(file, record)
    return seen


def _overrides(theme: Theme, languages: list[str], known: set[str],
               problems: list[Problem]) -> dict[str, dict[str, str]]:
    """language -> {message: text} from the theme's messages/ folder, every problem recorded."""
    folder = theme.root / "messages"
    shipped = shipped_languages()
    found: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        if path.suffix != ".toml" or path.stem not in shipped:
            problems.append(Problem(str(path), "(file)", f"must be <language>.toml for a language the portal "
                                                         f"ships ({', '.join(shipped)})"))
            continue
        texts = _read_overrides(path, known, problems)  # checked even while not offered: ready when it is
        if path.stem in languages:
            found[path.stem] = texts
    return found


def _read_overrides(path: Path, known: set[str], problems: list[Problem]) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        problems.append(Problem(str(path), "(file)", f"is not valid TOML: {error}"))
        return {}
    texts: dict[str, str] = {}
    for message, text in data.items():
        refused = _refusal(message, text)
        if refused:
            problems.append(Problem(str(path), repr(message), refused))
        elif message not in known:
            # a text reworded in theme.toml, or in a new version of the portal, leaves its old
            # translation behind: harmless, so named rather than fatal (start-up must not depend on it)
            log.warning("%s: %r is not a message of the portal (portal/translations/messages.pot) nor a "
                        "text of this theme's theme.toml, so it is not used; copy the English text exactly",
                        path, message)
        else:
            texts[message] = text
    return texts


def _refusal(message: str, text: object) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return "must be a non-empty string"
    missing = placeholders(message) - placeholders(text)
    if missing:
        return f"must keep the placeholders of the message: {', '.join(sorted(missing))}"
    return None


def _compiled(catalog: Catalog) -> Translations:
    """The catalogue compiled in memory (fuzzy entries left out: English shows until reviewed)."""
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def _with_overrides(shipped: Translations, locale: str, overrides: dict[str, str]) -> Translations:
    """The theme's texts first, the shipped catalogue for every other message (gettext's fallback)."""
    if not overrides:
        return shipped
    catalog = Catalog(locale=locale)
    for message, text in overrides.items():
        catalog.add(message, text)
    theme = _compiled(catalog)
    theme.add_fallback(shipped)
    return theme


def current_brand() -> ThemeFile:
    """The current theme's file in the current language (templates' `brand`)."""
    catalogues: Catalogues = current_app.extensions["catalogues"]
    return catalogues.brand(current_theme().name, str(get_locale()))
