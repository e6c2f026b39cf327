"""Every journey in Chromium: one browser for the package, a new context per test, each journey
at desktop width and at 390 px, axe on every state of the portal's pages, and a screenshot of
each step in the folder the run prints at its end.

The portal runs on its live test port against the real dev stack: slapd, the OIDC provider (it
reads slapd, so a person added for a test can sign in), the SMTP sink and the SMS sink in the
webhook gateway's shape (devstack/smssink.py). Each test adds fresh people, so journeys that
change passwords leave the demo people alone.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from devstack.mailsink import MailSink
from devstack.oidc_provider import OidcProvider
from devstack.ports import TEST
from devstack.slapd import Slapd
from devstack.smssink import SmsSink
from tests.browser_support import CHROMIUM_ARGS, DESKTOP, PHONE, Steps, screenshot_dir, serving  # noqa: F401
from tests.journeys.steps import Portal, Visitor
from tests.registration_support import DIRECTORY_ENVIRON, registration_toml
from tests.reset_support import RESET_TABLES, SlapdStack

# the sink's shape is the webhook gateway's default body; registration_toml names another one
JOURNEY_ENVIRON = {**DIRECTORY_ENVIRON,
                   "PORTAL_SMS__WEBHOOK__BODY": '{ to = "{to}", message = "{message}" }',
                   "PORTAL_REGISTRATION__REQUIRE_REGISTRATION": "false"}


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for every journey (tests/browser_support.py's is one per module). Not one per
    session: while Playwright's sync API runs, the main thread counts as inside an event loop, so a
    browser kept open would break other packages' browsers and anything else that starts a loop."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "390px"])
def viewport(request: pytest.FixtureRequest) -> ViewportSize:
    return ViewportSize(width=request.param["width"], height=request.param["height"])


@pytest.fixture
def tab(browser: Browser, viewport: ViewportSize) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)   # a broken step fails in seconds, not half a minute
    yield context.new_page()
    context.close()


@pytest.fixture
def texts(tmp_path: Path) -> Iterator[SmsSink]:
    """The SMS sink on this run's SMS port, empty for this test."""
    with SmsSink(TEST.sms, tmp_path / "sms") as sink:
        yield sink


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "portal_environ(**keys): PORTAL_* overrides for this journey's portal")


@pytest.fixture
def portal(request: pytest.FixtureRequest, make_app: Callable[..., Flask], oidc_provider: OidcProvider,
           mailbox: MailSink, texts: SmsSink) -> Iterator[Portal]:
    """The portal with the journeys' settings, and a test's `portal_environ` marker's overrides."""
    marker = request.node.get_closest_marker("portal_environ")
    environ = {**JOURNEY_ENVIRON, **(marker.kwargs if marker else {})}
    app = make_app(registration_toml(f"http://127.0.0.1:{TEST.sms}", tables=RESET_TABLES), environ=environ)
    with serving(app) as url:
        yield Portal(app, url)


@pytest.fixture
def directory(slapd: Slapd) -> SlapdStack:
    """Adds fresh people (with an alternate email and a mobile, unless told otherwise)."""
    return SlapdStack(slapd)


@pytest.fixture
def visitor(request: pytest.FixtureRequest, tab: Page, portal: Portal, mailbox: MailSink, texts: SmsSink,
            screenshot_dir: Path) -> Visitor:  # noqa: F811 - the fixture imported above
    journey = request.node.originalname.removeprefix("test_")
    return Visitor(tab, Steps(tab, screenshot_dir, journey), portal.url, mailbox, texts)
