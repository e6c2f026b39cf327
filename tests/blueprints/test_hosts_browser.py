"""The second host name in Chromium: a person opens the portal at http://localhost:<port> (the tests'
first host is 127.0.0.1), signs in at the real provider, which sends her back to that host's own
callback, and registers a method there, in that host's theme, axe on every portal page. The first
host, in the same browser, knows nothing of it: each host has its own session cookie."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from devstack.mailsink import MailSink
from tests.blueprints.test_enforce_browser import sign_in
from tests.browser_support import DESKTOP, Steps, browser, screenshot_dir, serving  # noqa: F401
from tests.registration_support import code_mail, portal_app, sms_gateway  # noqa: F401
from tests.support import BASE_URL, SECOND_URL, hosts_toml

NEW_ADDRESS = "carol.home@mail.example"


@pytest.fixture
def portal(portal_app: Callable[..., Flask]) -> Iterator[str]:
    """Registration required; the second host in the Contoso theme, the first in the default one."""
    with serving(portal_app(tables=hosts_toml("contoso"))):
        yield SECOND_URL


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_person_signs_in_and_registers_on_the_second_host(
        tab: Page, portal: str, mailbox: MailSink, screenshot_dir: Path) -> None:
    steps = Steps(tab, screenshot_dir, "second-host-register")
    tab.goto(f"{portal}/register")
    steps.shot("provider sign-in")

    sign_in(tab, "carol")   # back at this host's callback, and on to where she was going
    tab.wait_for_url(f"{portal}/register")
    steps.check("security info")
    assert "Contoso" in tab.title()
    tab.get_by_role("link", name="Add Alternate email").click()
    steps.check("alternate email")
    tab.get_by_label("Email address").fill(NEW_ADDRESS)
    tab.get_by_role("button", name="Send a code").click()
    tab.wait_for_url(f"{portal}/register/email/confirm")
    tab.get_by_label("Code", exact=True).fill(code_mail(mailbox, NEW_ADDRESS))
    tab.get_by_role("button", name="Confirm").click()

    tab.wait_for_url(f"{portal}/")   # registered: on to the portal's home, still on this host
    steps.check("registered")
    assert tab.get_by_text("Your alternate email was saved.").is_visible()
    assert tab.get_by_text("Signed in as Carol").is_visible()
    tab.goto(f"{BASE_URL}/")   # the first host, same browser: its own cookie, nobody signed in
    steps.check("first host")
    assert tab.get_by_text("Signed in as").count() == 0 and "Contoso" not in tab.title()
