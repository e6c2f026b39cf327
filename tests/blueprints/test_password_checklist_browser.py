"""The live password checklist and "show password" in Chromium (the portal's own script, allowed by
its CSP): the rules a browser can check are ticked off while typing; the server still decides."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from playwright.sync_api import Page, expect

from tests.blueprints.test_enforce_browser import tab, viewport  # noqa: F401
from tests.browser_support import Steps, browser, live_portal, screenshot_dir, serving  # noqa: F401
from tests.registration_support import sms_gateway  # noqa: F401
from tests.reset_support import reset_app, stack  # noqa: F401


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


def beside(tab: Page, field: str) -> bool:
    """The radio button and its label share a line: the label starts right of the button, level with it."""
    button = tab.locator(f"#{field}").bounding_box()
    label = tab.locator(f'label[for="{field}"]').bounding_box()
    assert button and label
    return label["x"] > button["x"] + button["width"] and label["y"] <= button["y"] + button["height"] / 2


@pytest.fixture
def reset_portal(reset_app: Any) -> Iterator[str]:
    with serving(reset_app()) as url:
        yield url


@pytest.mark.parametrize("stack", ["slapd"], indirect=True)
def test_the_choices_are_cards_with_each_button_beside_its_label(
        tab: Page, reset_portal: str, screenshot_dir: Path) -> None:
    steps = Steps(tab, screenshot_dir, "choice-cards")
    tab.goto(f"{reset_portal}/reset/")
    expect(tab.get_by_label("User name or work email")).to_be_focused()  # autofocus: the first field
    assert beside(tab, "intent-reset") and beside(tab, "intent-unlock")
    steps.check("identify, with unlock as a choice")
    tab.get_by_label("User name or work email").fill("nobody-here")
    tab.get_by_text("I know my password but I'm locked out").click()  # anywhere on the card picks it
    assert tab.get_by_label("I know my password but I'm locked out").is_checked()
    tab.get_by_role("button", name="Next").click()

    tab.wait_for_url(f"{reset_portal}/reset/verify")
    for kind in ("email", "phone", "totp", "questions"):
        assert beside(tab, f"method-{kind}")
    tab.get_by_label("Mobile phone").check()
    assert tab.get_by_label("Mobile phone").is_checked()
    steps.check("methods as cards")
