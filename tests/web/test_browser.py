"""The portal as a person sees it: headless Chromium on a live server, checked with axe."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from devstack import people
from devstack.oidc_provider import OidcProvider
from devstack.ports import TEST
from devstack.slapd import Slapd
from tests.browser_support import browser, live_portal, page, serving, violations  # noqa: F401


@pytest.fixture
def live_forms(make_app: Callable[..., Flask], oidc_provider: OidcProvider, slapd: Slapd) -> Iterator[str]:
    """The portal with resets offered and no pacing: its forms, posted as a browser posts them."""
    with serving(make_app('[rollout]\nreset = "everybody"\n\n[reset]\nmin_response_ms = 0')) as url:
        yield url


def test_the_landing_page_has_no_accessibility_violations(page: Page, live_portal: str) -> None:
    page.goto(live_portal + "/")
    assert violations(page) == []


def test_the_error_page_has_no_accessibility_violations(page: Page, live_portal: str) -> None:
    page.goto(live_portal + "/no-such-page")
    assert page.locator("h1").inner_text() == "Page not found"
    assert violations(page) == []


def test_keyboard_users_can_skip_to_the_content(page: Page, live_portal: str) -> None:
    page.goto(live_portal + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_page_works_on_a_phone_screen(browser: Browser, live_portal: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto(live_portal + "/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


def test_a_person_signs_in_and_out_in_the_browser(page: Page, live_portal: str) -> None:
    alice = people.person("alice")
    page.goto(live_portal + "/")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(alice.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_portal + "/")
    assert "Signed in as Alice Andersen" in page.content()
    assert violations(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.url.startswith(f"{TEST.issuer}/session/end")   # signed out at the provider too
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(lambda url: url.startswith(live_portal + "/"))   # back, with the provider's state
    assert "Signed in as" not in page.content()
    assert page.get_by_role("link", name="Sign in").is_visible()


def session_cookie(page: Page) -> str:
    [cookie] = [c for c in page.context.cookies() if c["name"] == "portal_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    return cookie["value"]


def test_the_reset_form_posts_with_the_token_its_cookie_holds(page: Page, live_forms: str) -> None:
    page.goto(live_forms + "/reset/")
    assert "." in session_cookie(page)      # a visitor's signed form cookie: nothing stored yet
    page.get_by_label("User name or work email").fill("nobody-by-this-name")
    page.get_by_role("button", name="Next").click()
    page.wait_for_url(live_forms + "/reset/verify")
    assert "." not in session_cookie(page)  # the flow began: a stored session's token now
    assert violations(page) == []


def test_a_password_is_changed_through_the_form_the_cookie_s_token_guards(
        page: Page, live_forms: str, slapd: Slapd) -> None:
    login, old, new = f"b{uuid.uuid4().hex[:10]}", f"Old.{uuid.uuid4().hex[:8]}.Pw1!", "Marble kettle, orbit 42 fennel"
    slapd.add_person(login, old, groups=(people.PILOT_GROUP,))
    page.goto(live_forms + "/change/")
    assert "." in session_cookie(page)
    page.get_by_label("User name or work email").fill(login)
    page.get_by_label("Current password").fill(old)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("New password again").fill(new)
    page.get_by_role("button", name="Change my password").click()
    page.wait_for_load_state()
    assert "This page has expired" not in page.content()
    assert page.locator("h1").inner_text() == "Your password was changed"
