"""The steps journeys share, named as a person would tell them: open a page, sign in at the
provider's page, read the newest code from the mail or SMS sink, choose a new password.

Selectors go by role and visible label (the pages' structure may change; their words are the
contract), and where a text may be reworded, by a pattern on its stable core.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
from flask import Flask
from playwright.sync_api import Locator, Page, expect

from devstack.mailsink import MailSink
from devstack.smssink import SmsSink
from portal import clock
from tests.browser_support import Steps
from tests.registration_support import code_in, mail_body
from tests.reset_support import Person

NEW_PASSWORD = "Marble kettle, orbit 42 fennel"
REFUSED_PASSWORD = "short"           # fewer characters than the rules ask for
WAIT_SECONDS = 10.0


@dataclass
class Portal:
    """A portal serving on its live test port: the app (to seed the store) and its address."""

    app: Flask
    url: str


@dataclass
class Visitor:
    """One person's browser tab on the portal, with the sinks where their codes arrive."""

    page: Page
    steps: Steps
    portal: str
    mailbox: MailSink
    texts: SmsSink

    # -- pages --------------------------------------------------------------------------------

    def open(self, path: str) -> None:
        self.page.goto(self.portal + path)

    def check(self, state: str) -> None:
        """A screenshot of the page as it is now, axe finds nothing on it, and nothing is wider
        than the window (at 390 px a person scrolls down, never sideways)."""
        self.steps.check(state)
        assert self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), state

    def shot(self, state: str) -> None:
        """A screenshot only: for pages that are not the portal's (the provider, another origin)."""
        self.steps.shot(state)

    def heading(self, pattern: str) -> None:
        """The page's main heading says this (a pattern on its stable core)."""
        expect(self.page.get_by_role("heading", level=1)).to_have_text(re.compile(pattern, re.I))

    def says(self, pattern: str) -> None:
        expect(self.page.get_by_text(re.compile(pattern, re.I)).first).to_be_visible()

    def field_says(self, label: str, pattern: str) -> None:
        """An error tied to its field: what a screen reader reads with the field."""
        expect(self.field(label)).to_have_accessible_description(re.compile(pattern, re.I))

    def announced(self, pattern: str) -> None:
        """An error the page announces as an alert."""
        expect(self.page.get_by_role("alert").filter(has_text=re.compile(pattern, re.I)).first).to_be_visible()

    def field(self, label: str) -> Locator:
        return self.page.get_by_label(re.compile(label, re.I)).first

    def fill(self, label: str, value: str) -> None:
        self.field(label).fill(value)

    def press(self, button: str) -> None:
        self.page.get_by_role("button", name=re.compile(button, re.I)).first.click()

    def follow(self, link: str) -> None:
        self.page.get_by_role("link", name=re.compile(link, re.I)).first.click()

    def choose(self, method: str) -> None:
        """A choice on the page (a method to verify with, what the person needs), by the words of its label."""
        self.page.get_by_role("radio", name=re.compile(method, re.I)).check()

    # -- the provider's page -------------------------------------------------------------------

    def sign_in_at_provider(self, person: Person, password: str | None = None) -> None:
        self.page.get_by_label("Username").fill(person.login)
        self.page.get_by_label("Password").fill(password or person.password)
        self.shot("provider sign-in")
        self.page.get_by_role("button", name="Sign in").click()

    def sign_in(self, person: Person, then: str = "/") -> None:
        """Sign in from the portal, through the provider's page, and land on `then`."""
        self.open(f"/signin?next={then}")
        self.sign_in_at_provider(person)
        self.page.wait_for_url(self.portal + then)

    # -- codes ---------------------------------------------------------------------------------

    def code_mailed_to(self, address: str, nth: int = 1) -> str:
        """The code in the `nth` code mail to `address` (waiting for it)."""
        def mails() -> list[str]:
            return [mail_body(m) for m in self.mailbox.messages()
                    if m["To"] == address and "verification code" in m["Subject"]]
        return code_in(_nth(mails, nth))

    def code_texted_to(self, number: str, nth: int = 1) -> str:
        def texts() -> list[str]:
            return [t.message for t in self.texts.texts() if t.to == number]
        return code_in(_nth(texts, nth))

    # -- forms that recur ----------------------------------------------------------------------

    def enter_code(self, code: str, label: str = "^Code$", button: str = "Verify|Confirm") -> None:
        self.fill(label, code)
        self.press(button)

    def new_password(self, password: str = NEW_PASSWORD, again: str | None = None) -> None:
        self.fill("^New password$", password)
        self.fill("^New password again$", password if again is None else again)


def wrong(code: str) -> str:
    """A code of the same length that is certainly not `code`."""
    return "".join(str((int(digit) + 1) % 10) for digit in code)


def authenticator_code(secret: str) -> str:
    """What an authenticator app shows now for `secret` (the portal's clock, which tests may move)."""
    return pyotp.TOTP(secret.replace(" ", "")).at(clock.timestamp())


def _nth(items: Callable[[], list[str]], nth: int) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while len(found := items()) < nth:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(found)} codes arrived, expected {nth}")
        time.sleep(0.02)
    return found[nth - 1]
