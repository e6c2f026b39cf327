"""The live password checklist and "show password" in Chromium (the portal's own script, allowed by
its CSP): the rules a browser can check are ticked off while typing; the server still decides."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.blueprints.test_enforce_browser import tab, viewport  # noqa: F401
from tests.browser_support import Steps, browser, live_portal, screenshot_dir  # noqa: F401


def rule(tab: Page, check: str) -> str:
    return tab.locator(f'#password-rules li[data-check="{check}"]').get_attribute("class") or ""


def test_the_checklist_follows_the_typing_and_show_password_reveals_both_fields(
        tab: Page, live_portal: str, screenshot_dir: Path) -> None:
    steps = Steps(tab, screenshot_dir, "password-checklist")
    errors: list[str] = []
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    tab.goto(f"{live_portal}/change/")
    new, again = tab.get_by_label("New password", exact=True), tab.get_by_label("New password again")

    new.fill("short")
    assert "rule-unmet" in rule(tab, "length") and "rule-unmet" in rule(tab, "match")
    new.fill("Quartz tundra violet jigsaw")
    again.fill("Quartz tundra violet jigsaw")
    assert "rule-met" in rule(tab, "length") and "rule-met" in rule(tab, "match")
    assert tab.locator('#password-rules li[data-check="length"] .rule-state').text_content() == "Done: "
    tab.get_by_label("Show password").check()
    assert new.get_attribute("type") == again.get_attribute("type") == "text"
    assert tab.get_by_label("Current password").get_attribute("type") == "text"
    steps.check("checklist ticked, passwords shown")
    tab.get_by_label("Show password").uncheck()
    assert new.get_attribute("type") == "password"
    assert errors == []  # no CSP refusal, no script error
