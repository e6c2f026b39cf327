"""The catalogues are complete: every text of the code and templates is in messages.pot, and every
shipped language translates each one (not empty, not fuzzy, with the message's placeholders)."""
from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from portal.branding.catalogues import placeholders
from portal.settings.languages import TRANSLATIONS, shipped_languages

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code in shipped_languages() if code != "en"]


def catalogue(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def messages(catalog: Catalog) -> dict[object, Message]:
    return {m.id: m for m in catalog if m.id}


TEMPLATE = messages(catalogue(TRANSLATIONS / "messages.pot"))


def test_french_german_and_spanish_ship_next_to_english() -> None:
    assert shipped_languages() == ("en", "de", "es", "fr")


def test_messages_pot_holds_every_text_of_the_code_and_templates(tmp_path: Path) -> None:
    """What `make messages` would extract now: a text added without re-extracting fails here."""
    fresh = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).with_name("pybabel")), "-q", "extract", "-F",
                    "portal/translations/babel.cfg", "-k", "_l", "-k", "N_", "-o", str(fresh), "."],
                   cwd=ROOT, check=True)
    assert set(messages(catalogue(fresh))) == set(TEMPLATE), "run `make messages` and translate the new texts"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_and_not_fuzzy(code: str) -> None:
    translated = messages(catalogue(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", code))
    assert set(TEMPLATE) - set(translated) == set(), "run `make messages`"
    untranslated = [m.id for m in translated.values()
                    if m.id in TEMPLATE and (m.fuzzy or not all(_strings(m)))]
    assert untranslated == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_translation_keeps_the_placeholders_of_its_message(code: str) -> None:
    translated = catalogue(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", code)
    dropped = []
    for m in translated:
        if m.id in TEMPLATE:
            wanted = set().union(*(placeholders(source) for source in _ids(m)))
            dropped += [(m.id, text) for text in _strings(m) if placeholders(text) != wanted]
    assert dropped == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_translation_formats_as_python_does_it(code: str) -> None:
    """A stray `%` (French "50 %" instead of "50 %%") would break the page at render time."""
    translated = catalogue(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", code)
    values: defaultdict[str, int] = defaultdict(int)
    broken = []
    for m in translated:
        if m.id in TEMPLATE and m.python_format:
            for text in _strings(m):
                try:
                    text % values
                except (KeyError, ValueError, TypeError) as error:
                    broken.append((text, str(error)))
    assert broken == []


@pytest.mark.parametrize("code", TRANSLATED)
def test_plural_messages_have_every_plural_form_of_the_language(code: str) -> None:
    translated = catalogue(TRANSLATIONS / code / "LC_MESSAGES" / "messages.po", code)
    plurals = [m for m in translated if m.id in TEMPLATE and m.pluralizable]
    assert plurals and all(len(m.string) == translated.num_plurals for m in plurals)


def test_the_placeholders_looked_for_are_gettext_and_format_ones() -> None:
    assert placeholders("Hello %(name)s, %(num)d left, {code}; 50 %%") == {"name", "num", "code"}


def _ids(m: Message) -> tuple[str, ...]:
    return m.id if isinstance(m.id, tuple) else (m.id,)


def _strings(m: Message) -> tuple[str, ...]:
    return m.string if isinstance(m.string, tuple) else (m.string,)
