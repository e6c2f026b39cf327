"""The language a page is shown in: the switcher's cookie, else the browser's languages, else
[i18n] default; the switcher keeps the choice without sign-in and only ever leads back here."""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.branding_support import start_up_problems
from tests.support import BASE_URL


def page(client: FlaskClient, path: str = "/", **headers: str) -> str:
    return client.get(path, base_url=BASE_URL, headers=headers).get_data(as_text=True)


def html_lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)"', html)
    assert found
    return found.group(1)


@pytest.mark.parametrize(("accept", "lang", "heading"), [
    ("fr-CH, fr;q=0.9, en;q=0.8", "fr", "Gérez votre mot de passe"),
    ("de-DE", "de", "Ihr Passwort verwalten"),
    ("es-419,es;q=0.9", "es", "Gestione su contraseña"),
    ("it, pt;q=0.5", "en", "Manage your password"),  # none offered: the default
    ("", "en", "Manage your password"),
])
def test_the_browser_s_languages_choose_among_the_offered_ones(build: Callable[..., Flask], accept: str,
                                                                lang: str, heading: str) -> None:
    html = page(build().test_client(), **({"Accept-Language": accept} if accept else {}))
    assert html_lang(html) == lang
    assert heading in html


def test_the_default_language_is_the_settings_one(build: Callable[..., Flask]) -> None:
    html = page(build('[i18n]\nlanguages = ["en", "de"]\ndefault = "de"\n').test_client(), **{"Accept-Language": "fr"})
    assert html_lang(html) == "de" and "Ihr Passwort verwalten" in html


def test_the_switcher_s_choice_wins_over_the_browser_and_is_kept_without_sign_in(build: Callable[..., Flask]) -> None:
    client = build().test_client()
    answer = client.get("/language/de?next=/reset/", base_url=BASE_URL, headers={"Accept-Language": "fr"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/reset/"
    html = page(client, "/reset/", **{"Accept-Language": "fr"})
    assert html_lang(html) == "de" and "Ihr Passwort zurücksetzen" in html
    assert 'aria-current="true">Deutsch</a>' in html


def test_the_cookie_lasts_and_follows_the_session_s_rules(build: Callable[..., Flask]) -> None:
    cookie = build().test_client().get("/language/es", base_url=BASE_URL).headers["Set-Cookie"]
    assert cookie.startswith("portal_language=es;")
    assert all(part in cookie for part in ("Max-Age=34560000", "Path=/", "HttpOnly", "SameSite=Lax"))
    https = build(base_url="https://passwords.example.test").test_client()
    secure = https.get("/language/es", base_url="https://passwords.example.test").headers["Set-Cookie"]
    assert secure.startswith("__Host-portal_language=es;") and "Secure" in secure and "Domain" not in secure


def test_every_page_has_the_switcher_coming_back_to_it(build: Callable[..., Flask]) -> None:
    html = page(build().test_client(), "/reset/?x=1")
    links = re.findall(r'<a href="(/language/[^"]+)" lang="(\w+)" hreflang="\w+"[^>]*>([^<]+)</a>', html)
    assert [(lang, name) for _url, lang, name in links] == [
        ("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("es", "Español")]
    assert links[1][0] == "/language/fr?next=/reset/?x%3D1"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "evil",
                                    "/\r\nSet-Cookie:x=1", "javascript:alert(1)", ""])
def test_the_switcher_never_leads_elsewhere(build: Callable[..., Flask], target: str) -> None:
    answer = build().test_client().get("/language/fr", query_string={"next": target}, base_url=BASE_URL)
    assert answer.status_code == 303 and answer.headers["Location"] == "/"  # the landing page


def test_a_language_not_offered_is_not_found(build: Callable[..., Flask]) -> None:
    client = build('[i18n]\nlanguages = ["en", "fr"]\n').test_client()
    assert client.get("/language/de", base_url=BASE_URL).status_code == 404
    assert client.get("/language/xx", base_url=BASE_URL).status_code == 404


def test_one_language_offered_shows_no_switcher(build: Callable[..., Flask]) -> None:
    assert "/language/" not in page(build('[i18n]\nlanguages = ["fr"]\ndefault = "fr"\n').test_client())


@pytest.mark.parametrize(("toml", "problem"), [
    ('languages = ["en", "it"]', "i18n.languages: must be a non-empty list of en, de, es, fr (got ['en', 'it'])"),
    ("languages = []", "i18n.languages: must be a non-empty list of en, de, es, fr (got [])"),
    ('languages = ["en", "fr", "en"]', "i18n.languages: lists ['en'] twice"),
    ('languages = ["en", "fr"]\ndefault = "de"', "i18n.default: must be one of i18n.languages (en, fr; got 'de')"),
    ('langs = ["en"]', "i18n.langs: unknown key; allowed keys here: default, languages"),
])
def test_wrong_language_settings_stop_start_up_with_one_line(build: Callable[..., Flask], toml: str,
                                                             problem: str) -> None:
    problems = start_up_problems(build, f"[i18n]\n{toml}\n")
    assert [p.split(": ", 1)[1] for p in problems] == [problem]


def test_a_region_of_an_offered_language_wins_over_a_lower_ranked_language(build: Callable[..., Flask]) -> None:
    assert html_lang(page(build().test_client(), **{"Accept-Language": "de-CH, fr;q=0.5"})) == "de"
