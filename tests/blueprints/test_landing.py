"""The landing page's actions are worked out once per language and mount path, and each host's
theme still describes them in its own words."""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from portal.blueprints.landing import CACHE
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
