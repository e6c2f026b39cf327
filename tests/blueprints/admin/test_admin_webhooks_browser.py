"""The webhook delivery log in Chromium at 390 px: every row readable without scrolling sideways
(each becomes a card of labelled lines), axe finds nothing, a screenshot for review."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask
from playwright.sync_api import Browser

from devstack import people
from portal.services.messaging import webhooks
from tests.admin_support import ADMIN, admin_app  # noqa: F401
from tests.blueprints.admin.test_admin_webhooks import emit
from tests.browser_support import PHONE, Steps, browser, screenshot_dir, serving  # noqa: F401
from tests.webhook_support import WebhookReceiver, receiver  # noqa: F401 - fixture


def test_the_delivery_log_reads_at_390_px(admin_app: Callable[..., Flask], receiver: WebhookReceiver,
                                          browser: Browser, screenshot_dir: Path) -> None:  # noqa: F811
    app = admin_app(tables="[outbox]\nin_process_worker = false\n" + receiver.toml())
    emit(app, webhooks.ACCOUNT_UNLOCKED)
    emit(app, webhooks.DEADLINE_PASSED)
    receiver.stop()
    app.extensions["outbox"].deliver_due()  # both retrying, with the error on record

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    steps = Steps(page, screenshot_dir, "webhook-log")
    try:
        with serving(app) as portal:
            page.goto(f"{portal}/admin/webhooks")
            page.get_by_label("Username").fill(ADMIN)
            page.get_by_label("Password").fill(people.person(ADMIN).password)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Webhooks").wait_for()
            steps.check("delivery log")

            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            header = page.locator("thead").bounding_box()  # kept for screen readers, out of sight:
            assert header is not None and header["width"] <= 1 and header["height"] <= 1  # cells are labelled
            first = page.locator("tbody tr").first
            assert [first.locator("td").nth(i).get_attribute("data-label") for i in (1, 5)] == ["Event", "Last error"]
            assert "enforcement.deadline_passed" in first.inner_text() and "ConnectionError" in first.inner_text()
    finally:
        context.close()
