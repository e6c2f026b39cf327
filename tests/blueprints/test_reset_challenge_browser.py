"""In Chromium, under the portal's strict CSP: an address over the threshold gets the widget, which
solves its challenge by itself (the portal's own files, a same-origin worker), and the reset goes
on; axe finds nothing on the pages with the widget."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from devstack.mailsink import MailSink
from devstack.slapd import Slapd
from tests.browser_support import Steps, browser, screenshot_dir, serving  # noqa: F401
from tests.registration_support import sms_gateway  # noqa: F401
from tests.reset_support import SlapdStack, Stack, code_sent_to, reset_app  # noqa: F401

SOLVED = "() => document.querySelector('input[name=\"altcha\"]')?.value"


@pytest.fixture
def stack(slapd: Slapd) -> Stack:
    return SlapdStack(slapd)


@pytest.fixture
def tab(browser: Browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context()
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def solves_by_itself(tab: Page) -> None:
    tab.wait_for_function(SOLVED)
    assert tab.get_by_text("There were many attempts from your network").is_visible()
    assert tab.get_by_text("Done", exact=True).is_visible()  # the widget speaks the portal's texts


def test_over_the_threshold_the_widget_solves_by_itself_and_the_reset_goes_on(  # noqa: F811
        reset_app: Any, stack: Stack, tab: Page, mailbox: MailSink, screenshot_dir: Path) -> None:  # noqa: F811
    person = stack.add_person()
    app: Flask = reset_app({"PORTAL_RESET__CHALLENGE__ENABLED": "true", "PORTAL_RESET__CHALLENGE__AFTER_ATTEMPTS": "1",
                            "PORTAL_RESET__CHALLENGE__COST": "1000"})
    refused: list[str] = []
    tab.on("console", lambda message: refused.append(message.text)
           if "Content Security Policy" in message.text else None)
    steps = Steps(tab, screenshot_dir, "reset-challenge")
    with serving(app) as portal:
        tab.goto(f"{portal}/reset/")
        tab.get_by_label("User name or work email").fill(f"nobody-{uuid.uuid4().hex[:8]}")
        tab.get_by_role("button", name="Next").click()  # the address's one attempt below the threshold
        tab.goto(f"{portal}/reset/")
        solves_by_itself(tab)
        steps.check("identify with the check")
        tab.get_by_label("User name or work email").fill(person.login)
        tab.get_by_role("button", name="Next").click()
        tab.wait_for_url(f"{portal}/reset/verify")
        solves_by_itself(tab)
        steps.check("send-code with the check")
        tab.get_by_role("button", name="Continue").click()
        tab.wait_for_url(f"{portal}/reset/code")
        tab.get_by_role("textbox", name="Code").fill(code_sent_to(mailbox, person.alternate_email))
        tab.get_by_role("button", name="Verify").click()
        tab.wait_for_url(f"{portal}/reset/password")
    assert refused == []
