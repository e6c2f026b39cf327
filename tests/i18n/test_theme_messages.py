"""A theme words messages its own way per language (branding/<theme>/messages/<language>.toml),
translates its own texts with the same files, and a wrong file stops start-up with one line."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from portal.services.proofs.methods.questions import catalogue
from tests.branding_support import start_up_problems
from tests.support import BASE_URL, SECOND_URL, hosts_toml


def landing(app: Flask, language: str) -> str:
    return app.test_client().get("/", base_url=BASE_URL, headers={"Accept-Language": language}).get_data(as_text=True)


def test_contoso_s_own_texts_come_in_each_language(build: Callable[..., Flask]) -> None:
    app = build(theme="contoso")
    french, german = landing(app, "fr"), landing(app, "de")
    assert "<title>Portail des mots de passe Contoso</title>" in french
    assert "De bons mots de passe" in french and "le Service Desk Contoso" in french
    assert "Gute Passwörter" in german and "Datenschutzhinweis" in german
    assert "Good passwords" in landing(app, "en")


def test_a_theme_overrides_a_portal_message_for_one_language_only(build: Callable[..., Flask], branding: Path) -> None:
    (branding / "default" / "messages").mkdir(exist_ok=True)
    (branding / "default" / "messages" / "fr.toml").write_text('"Change my password" = "Nouveau mot de passe"\n')
    (branding / "default" / "messages" / "en.toml").write_text('"Manage your password" = "Fabrikam passwords"\n')
    app = build()
    assert "Nouveau mot de passe</span>" in landing(app, "fr")
    assert "Change my password" in landing(app, "en") and "Fabrikam passwords" in landing(app, "en")
    assert "Changer mon mot de passe" in landing(build(theme="contoso"), "fr")  # another theme: the catalogue's


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("fr.toml", '"Contact %(name)s" = "Appelez le support"', "'Contact %(name)s': must keep the placeholders of the message: name"),
    ("fr.toml", '"Next" = " "', "'Next': must be a non-empty string"),
    ("fr.toml", '"Next" = 3', "'Next': must be a non-empty string"),
    ("fr.toml", '"Next = "Suivant"', "(file): is not valid TOML"),
    ("it.toml", '"Next" = "Avanti"', "(file): must be <language>.toml for a language the portal ships (en, de, es, fr)"),
    ("fr.po", "", "(file): must be <language>.toml"),
])
def test_a_wrong_override_file_stops_start_up(build: Callable[..., Flask], branding: Path, name: str,
                                              content: str, problem: str) -> None:
    (branding / "default" / "messages").mkdir(exist_ok=True)
    path = branding / "default" / "messages" / name
    path.write_text(content + "\n")
    problems = start_up_problems(build)
    assert len(problems) == 1 and problems[0].startswith(f"{path}: {problem}")


def test_a_text_that_is_no_message_is_named_in_a_warning_and_not_used(build: Callable[..., Flask], branding: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """A typo, or the old English of a text reworded since in theme.toml: start-up goes on."""
    path = branding / "default" / "messages" / "fr.toml"
    path.write_text('"Reset my pasword" = "x"\n"Next" = "Continuer"\n')
    app = build('[rollout]\nreset = "everybody"\n')
    assert f"{path}: 'Reset my pasword' is not a message of the portal" in caplog.text
    assert "Continuer</button>" in app.test_client().get("/reset/", base_url=BASE_URL,
                                                         headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_each_host_gets_its_own_theme_s_wording(build: Callable[..., Flask], branding: Path) -> None:
    (branding / "default" / "messages").mkdir(exist_ok=True)
    (branding / "default" / "messages" / "fr.toml").write_text('"Change my password" = "Nouveau mot de passe"\n')
    client = build(hosts_toml("contoso")).test_client()
    french = {"Accept-Language": "fr"}
    for _ in range(2):  # alternately, in one process: no catalogue is kept across hosts
        default = client.get("/", base_url=BASE_URL, headers=french).get_data(as_text=True)
        contoso = client.get("/", base_url=SECOND_URL, headers=french).get_data(as_text=True)
        assert "Nouveau mot de passe</span>" in default and "Changer mon mot de passe</span>" in contoso


def test_a_custom_security_question_is_translated_by_the_theme(build: Callable[..., Flask], branding: Path) -> None:
    (branding / "default" / "messages" / "fr.toml").write_text(
        '"What was your first team\'s name?" = "Quel était le nom de votre première équipe ?"\n')
    app = build('[registration.questions]\ncustom = ["What was your first team\'s name?"]\n')
    settings = app.extensions["settings"].registration.questions
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        french = catalogue(settings)
    with app.test_request_context("/"):
        english = catalogue(settings)
    assert french[-1].text == "Quel était le nom de votre première équipe ?"
    assert english[-1].text == "What was your first team's name?"
    assert french[-1].key == english[-1].key  # the answers stay the same question's
    assert french[0].text == "Quel était le nom de votre premier animal de compagnie ?"
