"""The portal as a person sees it: headless Chromium on a live server, checked with axe."""
from __future__ import annotations


from playwright.sync_api import Browser, Page

from devstack import people
from devstack.ports import TEST
from tests.browser_support import browser, live_portal, page, violations  # noqa: F401


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
