"""What the browser tests share: headless Chromium (Debian's), the portal on a live server, axe, and
screenshots of every step in a folder the test run prints at its end (tests/conftest.py)."""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from devstack.oidc_provider import OidcProvider
from devstack.ports import TEST
from tests.support import SCREENSHOTS_KEY

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """`app` on the fixed test port, as the provider's registered redirect URI expects; its URL."""
    server = make_server("127.0.0.1", TEST.portal, app, threaded=True)
    # shutdown() waits for the loop's next poll: half a second per test at the default interval
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield TEST.portal_url
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def live_portal(make_app: Callable[..., Flask], oidc_provider: OidcProvider) -> Iterator[str]:
    with serving(make_app()) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "390px"])
def tab(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page at desktop width, then at 390 px (the test runs once at each)."""
    context = browser.new_context(viewport=dict(request.param))
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]]


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    """One folder per run: each module that imports this fixture gets its own copy of it, and
    they must all share the folder the run prints."""
    folder = pytestconfig.stash.get(SCREENSHOTS_KEY, None)
    if folder is None:
        folder = pytestconfig.stash[SCREENSHOTS_KEY] = tmp_path_factory.mktemp("screenshots", numbered=False)
    return folder


@dataclass
class Steps:
    """Numbered screenshots of one journey: `<journey>-<width>-<NN>-<step>.png`."""

    page: Page
    folder: Path
    journey: str
    count: int = 0

    def shot(self, step: str) -> Path:
        self.count += 1
        width = self.page.viewport_size["width"] if self.page.viewport_size else 0
        name = re.sub(r"[^a-z0-9]+", "-", f"{self.journey}-{width}-{self.count:02d}-{step}".lower())
        path = self.folder / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check(self, step: str) -> None:
        """A page of the portal: screenshot it, and axe finds nothing."""
        self.shot(step)
        assert violations(self.page) == [], (step, self.page.url)
