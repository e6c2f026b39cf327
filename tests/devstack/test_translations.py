"""devstack/translations.py: what a catalogue still needs as JSON, and filling it back in."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from devstack import translations
from portal.settings.languages import TRANSLATIONS


@pytest.fixture
def catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped catalogues, French with one text emptied and one marked fuzzy."""
    copy = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, copy)
    monkeypatch.setattr(translations, "TRANSLATIONS", copy)
    path = copy / "fr" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    catalog["Next"].string = ""
    catalog["Contact %(name)s"].flags.add("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog)
    return copy


def test_todo_lists_the_empty_and_the_fuzzy_and_apply_fills_them(catalogues: Path) -> None:
    assert translations.todo("fr") == {"Next": "", "Contact %(name)s": "Contactez %(name)s"}
    assert translations.todo("de") == {}
    assert translations.apply("fr", {"Next": "Suivant", "Contact %(name)s": "Écrivez à %(name)s"}) == []
    assert translations.todo("fr") == {}
    with (catalogues / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        assert read_po(handle)["Contact %(name)s"].string == "Écrivez à %(name)s"


def test_apply_refuses_a_lost_placeholder_or_a_missing_plural_form_and_writes_nothing(catalogues: Path) -> None:
    plural = "Register at least %(num)d method first.|||Register at least %(num)d methods first."
    assert translations.apply("fr", {"Next": "Suivant", "Contact %(name)s": "Contactez-nous",
                                     plural: "Au moins %(num)d méthode"}) == [
        "'Contact %(name)s': keep the placeholders ['name']",
        f"{plural!r}: give 2 forms separated by |||"]
    assert "Next" in translations.todo("fr")
