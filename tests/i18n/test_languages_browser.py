"""French and German pages in Chromium on a phone (390 px): nothing wider than the screen (German
compounds wrap), no axe violation, and the switcher's choice kept from page to page."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from devstack.slapd import Slapd

from tests.browser_support import PHONE, Steps, browser, screenshot_dir, serving, violations  # noqa: F401

PAGES = ("/", "/reset/", "/change/", "/no-such-page")
# every element whose content is wider than its box (text running out of it), by tag and text
OVERFLOWING = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible'
               && e.clientWidth > 0)
  .map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 60))"""


def fits_the_screen(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("language", ["fr", "de"])
def test_pages_fit_a_phone_and_pass_axe_in_french_and_german(browser: Browser, build: Callable[..., Flask],  # noqa: F811
                                                             screenshot_dir: Path, slapd: Slapd,  # noqa: F811
                                                             language: str) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, locale=language)
    page = context.new_page()
    steps = Steps(page, screenshot_dir, f"i18n-{language}")
    with serving(build('[rollout]\nreset = "everybody"\n', theme="contoso")) as url:
        for path in PAGES:
            page.goto(url + path)
            assert page.get_attribute("html", "lang") == language
            steps.check(path.strip("/") or "landing")
            assert fits_the_screen(page), path
            assert page.evaluate(OVERFLOWING) == [], path
        page.goto(url + "/reset/")
        page.fill("#identifier", "someone")
        page.click("main button[type=submit]")
        page.wait_for_url("**/reset/verify")
        steps.check("verify")
        assert fits_the_screen(page) and page.evaluate(OVERFLOWING) == []
    context.close()


def test_the_switcher_s_choice_holds_across_pages(browser: Browser, build: Callable[..., Flask]) -> None:  # noqa: F811
    context = browser.new_context(viewport=PHONE, locale="fr")
    page = context.new_page()
    with serving(build()) as url:
        page.goto(url + "/reset/")
        page.click("a[hreflang=de]")
        page.wait_for_url("**/reset/")
        assert page.get_attribute("html", "lang") == "de"
        page.goto(url + "/")
        assert page.get_attribute("html", "lang") == "de"
        assert page.get_attribute("a[hreflang=de]", "aria-current") == "true"
        assert violations(page) == []
    context.close()
