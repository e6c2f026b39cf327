"""The /enforce round trip in Chromium, to a real second origin: another application (a small page on
another loopback port, an allowed return origin) sends a person to the portal and gets them back,
whether they were compliant already, had to register first, or were due to re-confirm; at desktop
width and at 390 px, axe on every portal page, a screenshot of each step.

Chromium applies the page's CSP `form-action` to the redirect after a form submit, so the last two
journeys are ones only a browser can check: the form that completes registration (a code typed
back, "These are still correct") must lead back to the other origin.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from devstack import people
from portal import clock
from devstack.mailsink import MailSink
from devstack.oidc_provider import OidcProvider
from tests.browser_support import DESKTOP, PHONE, Steps, browser, screenshot_dir, serving  # noqa: F401
from tests.journeys.steps import wrong
from tests.registration_support import (DIRECTORY_ENVIRON, QUESTIONS, SmsGatewayServer, code_mail, post,  # noqa: F401
                                         registration_toml, sms_gateway)
from tests.registration_support import sign_in as sign_in_with_client

OTHER_HEADING = "Expense reports"
NEW_ADDRESS = "carol.home@mail.example"
RETURN_PATH = "/reports?month=11"  # where the other application wants the person back


@pytest.fixture
def other_application() -> Iterator[str]:
    """A second origin: one plain page that says which address it was opened at."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = (f"<!doctype html><html lang='en'><head><title>{OTHER_HEADING}</title></head>"
                    f"<body><main><h1>{OTHER_HEADING}</h1><p id='path'>{self.path}</p></main></body></html>")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def app(make_app: Callable[..., Flask], oidc_provider: OidcProvider, mailbox: MailSink,
        sms_gateway: SmsGatewayServer, other_application: str) -> Flask:
    """Registration required, and the other application's origin the only allowed return origin."""
    environ = {**DIRECTORY_ENVIRON, "PORTAL_REGISTRATION__RETURN_TO_ORIGINS": f'["{other_application}"]'}
    return make_app(registration_toml(sms_gateway.url), environ=environ)


@pytest.fixture
def portal(app: Flask) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "390px"])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return dict(request.param)


@pytest.fixture
def tab(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)   # a blocked redirect fails in seconds, not half a minute
    yield context.new_page()
    context.close()


def start_at_other_application(page: Page, portal: str, other: str, steps: Steps) -> str:
    """The other application sends the person to /enforce; they sign in at the provider."""
    target = other + RETURN_PATH
    page.goto(f"{portal}/enforce?return_to={quote(target, safe='')}")
    steps.shot("provider sign-in")
    return target


def sign_in(page: Page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(people.person(username).password)
    page.get_by_role("button", name="Sign in").click()


def assert_back_at(page: Page, target: str, steps: Steps) -> None:
    page.wait_for_url(target)
    assert page.get_by_role("heading", level=1).inner_text() == OTHER_HEADING
    assert page.locator("#path").inner_text() == RETURN_PATH
    steps.shot("back at the other application")


def test_a_compliant_person_goes_through_sign_in_and_back(
        tab: Page, portal: str, other_application: str, screenshot_dir: Path) -> None:
    steps = Steps(tab, screenshot_dir, "enforce-compliant")
    target = start_at_other_application(tab, portal, other_application, steps)

    sign_in(tab, "alice")   # her mobile and alternate mail in the directory are enough

    assert_back_at(tab, target, steps)


def test_a_person_who_must_register_does_so_and_the_last_submit_returns_them(
        tab: Page, portal: str, other_application: str, mailbox: MailSink, screenshot_dir: Path) -> None:
    steps = Steps(tab, screenshot_dir, "enforce-register-first")
    target = start_at_other_application(tab, portal, other_application, steps)

    sign_in(tab, "carol")   # nothing registered: the portal interrupts
    tab.wait_for_url(f"{portal}/security-info/required")
    steps.check("more information required")
    tab.get_by_role("link", name="Continue").click()
    steps.check("security info")
    tab.get_by_role("link", name="Add Alternate email").click()
    steps.check("alternate email")
    tab.get_by_label("Email address").fill(NEW_ADDRESS)
    tab.get_by_role("button", name="Send a code").click()
    tab.wait_for_url(f"{portal}/register/email/confirm")
    steps.check("enter the code")
    code = code_mail(mailbox, NEW_ADDRESS)
    tab.get_by_label("Code", exact=True).fill(wrong(code))
    tab.get_by_role("button", name="Confirm").click()
    expect(tab.get_by_label("Code", exact=True)).to_have_accessible_description(re.compile("not right", re.I))
    steps.check("wrong code")   # a mistake on the way keeps the way back
    tab.get_by_label("Code", exact=True).fill(code)
    tab.get_by_role("button", name="Confirm").click()   # the last submit: back to the other application

    assert_back_at(tab, target, steps)


def test_a_person_due_to_reconfirm_confirms_and_the_submit_returns_them(
        app: Flask, tab: Page, portal: str, other_application: str, screenshot_dir: Path) -> None:
    half_a_year_ago = app.test_client()
    sign_in_with_client(half_a_year_ago, "carol")
    with clock.travel(timedelta(days=-181)):
        assert post(half_a_year_ago, "/register/questions", QUESTIONS).status_code == 302
    steps = Steps(tab, screenshot_dir, "enforce-reconfirm")
    target = start_at_other_application(tab, portal, other_application, steps)

    sign_in(tab, "carol")
    tab.wait_for_url(f"{portal}/security-info/required")
    steps.check("check your security info")
    tab.get_by_role("link", name="Continue").click()
    steps.check("security info")
    tab.get_by_role("button", name="These are still correct").click()

    assert_back_at(tab, target, steps)
