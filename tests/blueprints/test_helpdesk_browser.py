"""The help desk in Chromium at 1280 and 390 px, axe on each step: look a caller up, send a code to
their alternate email, type what they read back, set a temporary password; nothing is wider than the screen."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page

from devstack import people
from devstack.mailsink import MailSink
from devstack.slapd import Slapd
from tests.browser_support import Steps, browser, screenshot_dir, serving, tab  # noqa: F401
from tests.helpdesk_support import AGENT, app  # noqa: F401
from tests.registration_support import sms_gateway  # noqa: F401
from tests.reset_support import SlapdStack, Stack, code_sent_to, reset_app  # noqa: F401


@pytest.fixture
def stack(slapd: Slapd) -> Stack:
    """Overrides reset_support's `stack`: one browser walk, on slapd."""
    return SlapdStack(slapd)


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_an_agent_checks_a_caller_and_sets_a_temporary_password(  # noqa: F811
        app: Flask, stack: Stack, tab: Page, mailbox: MailSink, screenshot_dir: Path) -> None:  # noqa: F811
    person = stack.add_person()
    steps = Steps(tab, screenshot_dir, "helpdesk")
    with serving(app) as portal:
        tab.goto(f"{portal}/helpdesk/")
        tab.get_by_label("Username").fill(AGENT)
        tab.get_by_label("Password").fill(people.person(AGENT).password)
        tab.get_by_role("button", name="Sign in").click()
        tab.wait_for_url(f"{portal}/helpdesk/")
        steps.check("search")
        tab.get_by_label("Caller's user name or email address").fill(person.login)
        tab.get_by_role("button", name="Look up").click()
        assert tab.get_by_text("Alternate email (").is_visible()
        steps.check("masked methods")
        assert fits_the_screen(tab)
        tab.get_by_role("button", name="Send a code / use this method").click()
        tab.get_by_label("Code the caller reads").fill(code_sent_to(mailbox, person.alternate_email))
        steps.check("code sent")
        tab.get_by_role("button", name="Check the code").click()
        assert tab.get_by_text("The caller passed the check").is_visible()
        steps.check("checked")
        tab.get_by_role("button", name="Reset the password").click()
        assert tab.get_by_role("heading", name="Temporary password set").is_visible()
        steps.check("temporary password")
        assert fits_the_screen(tab)
        assert stack.binds(person, tab.locator(".temporary-password code").inner_text())
