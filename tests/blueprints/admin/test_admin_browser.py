"""The administrator's pages in Chromium, at desktop width and at 390 px, axe on each: the reports
dashboard (tiles, charts and their numbers), a detailed table it leads to, the confirmation before
a campaign is sent, its mail as sent, and the audit log; nothing is wider than the screen."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from devstack import ldif, people
from devstack.people import BASE_DN
from devstack.slapd import Slapd
from portal.services.reset.verification import EVENT_PAUSED
from portal.services.reset.writer import EVENT_PASSWORD as RESET_EVENT
from portal.services.security import audit
from tests.admin_support import ADMIN, admin_app, directory_environ, refresh_standings  # noqa: F401
from tests.browser_support import Steps, browser, screenshot_dir, serving, tab  # noqa: F401
from tests.services.reporting.test_reports import record, register

OU = f"ou=admin-browser,{BASE_DN}"
PEOPLE = ("ab-amy", "ab-bob", "ab-cal", "ab-dee")
PAGE_RULES = ("landmark-one-main", "page-has-heading-one", "region")  # a mail is no page: no main, no h1


@pytest.fixture(scope="module")
def browser_people(slapd: Slapd) -> None:
    slapd.apply(ldif.document([ldif.entry(OU, {"objectClass": "organizationalUnit", "ou": "admin-browser"}),
                               *(ldif.entry(f"uid={name},{OU}", {"objectClass": "inetOrgPerson", "uid": name,
                                                                  "cn": name, "sn": "Browser",
                                                                  "mail": f"{name}@example.test"})
                                 for name in PEOPLE)]))


@pytest.fixture
def portal(admin_app: Callable[..., Flask], browser_people: None) -> Iterator[str]:  # noqa: F811
    """Three of four people registered, one long ago; a week of resets with a failure and a pause."""
    app = admin_app(environ=directory_environ(OU))
    for login, days in (("ab-cal", 200), ("ab-amy", 5), ("ab-bob", 2)):
        register(app, login, timedelta(days=days))
    for days in (6, 3, 1, 1, 0, 9):
        record(app, RESET_EVENT, audit.SUCCESS, "ab-cal", timedelta(days=days))
    record(app, RESET_EVENT, audit.FAILURE, "ab-dee", timedelta(days=1), reason="too_short")
    record(app, EVENT_PAUSED, audit.REFUSED, "ab-dee", timedelta(minutes=10), reason="too_many_failures", minutes=60)
    refresh_standings(app)
    with serving(app) as url:
        yield url


def mail_violations(page: Page) -> list[str]:
    """axe on a mail shown as it is sent, less the rules about a page's landmarks and headings."""
    options = {"resultTypes": ["violations"], "rules": {rule: {"enabled": False} for rule in PAGE_RULES}}
    return [f"{v['id']}: {v['help']}" for v in Axe().run(page, options=options).response["violations"]]


def fits_the_screen(page: Page) -> bool:
    """No sideways scrolling of the page itself (a wide table may scroll inside its own box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_dashboard_and_what_it_leads_to_read_well_on_a_phone(tab: Page, portal: str,
                                                                  screenshot_dir: Path) -> None:  # noqa: F811
    steps = Steps(tab, screenshot_dir, "admin-dashboard")
    tab.goto(f"{portal}/admin/reports")
    tab.get_by_label("Username").fill(ADMIN)
    tab.get_by_label("Password").fill(people.person(ADMIN).password)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(f"{portal}/admin/reports")
    steps.check("dashboard")
    assert fits_the_screen(tab)
    assert tab.locator("#tile-resets .tile-value").inner_text() == "5"          # the last 7 days, not the 9th
    assert tab.get_by_role("img", name="Successful password resets, per day").is_visible()
    tab.locator("#chart-resets summary").click()
    assert tab.locator("#series-resets").is_visible()
    steps.check("numbers of a chart")
    assert fits_the_screen(tab)

    tab.locator("#tile-reconfirm").click()
    tab.wait_for_url(f"{portal}/admin/reports/reconfirm?*")
    tab.get_by_role("link", name="Back to the reports").click()
    tab.locator("#tile-in_scope").click()
    tab.wait_for_url(f"{portal}/admin/reports/coverage?*")
    steps.check("coverage table")
    assert fits_the_screen(tab)

    tab.goto(f"{portal}/admin/campaigns")
    tab.get_by_role("button", name="Create draft").click()
    tab.get_by_role("link", name="Send to everyone in the audience…").click()
    assert tab.get_by_text("4 people will be mailed.").is_visible()
    steps.check("confirm sending")
    assert fits_the_screen(tab)
    tab.get_by_role("link", name="Cancel").click()
    tab.get_by_role("link", name="Open the HTML version").click()
    assert tab.evaluate("document.querySelector('img').naturalWidth") > 0     # the logo, loaded from base_url
    assert tab.evaluate("getComputedStyle(document.querySelector('td td')).backgroundColor") == "rgb(15, 108, 189)"
    steps.shot("the mail as sent, in the theme's colours")
    assert mail_violations(tab) == []
    assert fits_the_screen(tab)

    tab.goto(f"{portal}/admin/audit")
    steps.check("audit log")
    assert fits_the_screen(tab)
