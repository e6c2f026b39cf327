"""The landing page's actions are worked out once per language and mount path, and each host's
theme still describes them in its own words; the page itself is rendered once for everyone who
brings nothing of their own, and per visitor for anyone else."""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from portal.blueprints.landing import CACHE, PAGES
from tests.support import BASE_URL, SECOND_URL, hosts_toml


def test_every_host_s_theme_describes_the_actions_worked_out_once(make_app: Callable[..., Flask]) -> None:
    app = make_app(hosts_toml("contoso") + '\n[rollout]\nreset = "everybody"')
    client = app.test_client()
    pages = [client.get("/", base_url=base).get_data(as_text=True) for base in (BASE_URL, SECOND_URL, BASE_URL)]
    assert all('href="/reset/"' in page and "Reset my password" in page for page in pages)
    assert "Verify it is you and choose a new one." in pages[0] and "Verify it is you" in pages[2]
    assert "Prove it's you and pick a new one." in pages[1].replace("&#39;", "'")
    assert "Prove it" not in pages[0] + pages[2]
    assert list(app.extensions[CACHE]) == [("default", "en", ""), ("contoso", "en", "")]  # titles: a theme may reword them


def test_a_portal_mounted_under_a_path_links_its_actions_under_it(make_app: Callable[..., Flask]) -> None:
    app = make_app('[rollout]\nreset = "everybody"')
    client = app.test_client()
    mounted = client.get("/", base_url=f"{BASE_URL}/passwords").get_data(as_text=True)
    root = client.get("/").get_data(as_text=True)
    assert 'href="/passwords/reset/"' in mounted and 'href="/passwords/change/"' in mounted
    assert 'href="/reset/"' in root and 'href="/passwords/' not in root
    assert sorted(app.extensions[CACHE]) == [("default", "en", ""), ("default", "en", "/passwords")]




def test_visitors_who_bring_nothing_of_their_own_share_one_rendering(make_app: Callable[..., Flask]) -> None:
    app = make_app('[rollout]\nreset = "everybody"')
    first, second = app.test_client(), app.test_client()
    pages = [client.get("/").get_data(as_text=True) for client in (first, second, first)]
    assert pages[0] == pages[1] == pages[2] and "Reset my password" in pages[0]
    assert list(app.extensions[PAGES]) == [(urlsplit(BASE_URL).scheme, urlsplit(BASE_URL).netloc, "default", "en", "")]
    french = app.test_client()
    french.get("/language/fr")  # the switcher's cookie: a page of its own language, not the one kept
    assert "Réinitialiser mon mot de passe" in french.get("/").get_data(as_text=True)


def test_a_flashed_message_shows_on_its_own_visitor_s_page_only(make_app: Callable[..., Flask]) -> None:
    app = make_app('[rollout]\nreset = "everybody"')
    plain, flashed = app.test_client(), app.test_client()
    plain.get("/")
    with flashed.session_transaction() as session:
        session["_flashes"] = [("info", "Your password was changed.")]
    assert "Your password was changed." in flashed.get("/").get_data(as_text=True)
    for page in (plain.get("/"), app.test_client().get("/"), flashed.get("/")):  # the last: shown once
        assert "Your password was changed." not in page.get_data(as_text=True)


def test_a_signed_in_person_s_page_is_their_own(app: Flask, client: FlaskClient,
                                                sign_in_as: Callable[..., object]) -> None:
    anonymous = app.test_client()
    anonymous.get("/")
    sign_in_as("alice")
    page = client.get("/").get_data(as_text=True)
    assert "Signed in as" in page and 'name="csrf_token"' in page
    assert "Signed in as" not in anonymous.get("/").get_data(as_text=True)
    assert "Signed in as" not in app.test_client().get("/").get_data(as_text=True)
