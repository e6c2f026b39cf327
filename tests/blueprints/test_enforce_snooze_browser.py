""""Not now" in Chromium, at desktop width and at 390 px, axe on every portal page: another
application sends a person who must register to /enforce, they postpone, and the submit takes them
back to that other origin (the notice page's CSP form-action lets it); once postponing is used up
the same page says so and offers only the way through."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from playwright.sync_api import Page

from portal.services.container import collaborators
from portal.services.registration import snooze
from portal.services.registration.policy import MISSING
from tests.blueprints.test_enforce_browser import (app, assert_back_at, other_application, portal,  # noqa: F401
                                                   sign_in, start_at_other_application, tab, viewport)
from tests.browser_support import Steps, browser, screenshot_dir  # noqa: F401
from tests.registration_support import sms_gateway  # noqa: F401


def test_not_now_takes_the_person_back_to_the_other_application(
        tab: Page, portal: str, other_application: str, screenshot_dir: Path) -> None:
    steps = Steps(tab, screenshot_dir, "enforce-not-now")
    target = start_at_other_application(tab, portal, other_application, steps)

    sign_in(tab, "carol")   # nothing registered: the portal interrupts
    tab.wait_for_url(f"{portal}/security-info/required")
    steps.check("more information required, not now offered")
    assert tab.get_by_text("You can postpone this 3 more times.").is_visible()
    tab.get_by_role("button", name="Not now").click()

    assert_back_at(tab, target, steps)


def test_once_postponing_is_used_up_the_page_offers_only_the_way_through(
        app: Flask, tab: Page, portal: str, other_application: str, screenshot_dir: Path) -> None:
    with app.app_context():
        c = collaborators(app)
        carol = c.directory.find_user("carol")
        assert carol is not None
        for _ in range(app.extensions["settings"].registration.snooze_times):
            assert snooze.snooze(c, carol, MISSING).allowed
    steps = Steps(tab, screenshot_dir, "enforce-not-now-used-up")
    start_at_other_application(tab, portal, other_application, steps)

    sign_in(tab, "carol")
    tab.wait_for_url(f"{portal}/security-info/required")
    steps.check("no more postponing")

    assert tab.get_by_text("This can no longer be postponed.").is_visible()
    assert tab.get_by_role("button", name="Not now").count() == 0
    tab.get_by_role("link", name="Continue").click()
    tab.wait_for_url(f"{portal}/register")
    steps.check("security info")
