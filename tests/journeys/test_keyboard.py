"""The reset by keyboard only: Tab to move, type, Space to choose, Enter to submit; no clicks.
Each page opens with the focus in its first field (or on its error summary); the skip link is
one Shift+Tab stop away. It passes through a wrong code and ends at the confirmation."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from tests.journeys.steps import NEW_PASSWORD, Visitor, wrong
from tests.reset_support import SlapdStack

MOST_TABS = 40   # more presses than any page has stops: the field is not reachable


# the focused element shows it: an outline the stylesheet draws for keyboard focus (WCAG 2.4.7)
FOCUS_SHOWN = """element => element.matches(':focus-visible')
    && getComputedStyle(element).outlineStyle !== 'none' && parseFloat(getComputedStyle(element).outlineWidth) >= 2"""


def tab_to(visitor: Visitor, target: Locator, key: str = "Tab") -> None:
    """Press Tab (or `key`, such as Shift+Tab) until `target` has the focus, unless it has it
    already; every stop on the way shows where the focus is."""
    for _ in range(MOST_TABS):
        if target.evaluate("element => element === document.activeElement"):
            return
        visitor.page.keyboard.press(key)
        focused = visitor.page.locator("*:focus")
        assert focused.evaluate(FOCUS_SHOWN), focused.evaluate("element => element.outerHTML")
    raise AssertionError(f"{key} never reached {target}")


def type_into(visitor: Visitor, label: str, text: str) -> None:
    tab_to(visitor, visitor.field(label))
    visitor.page.keyboard.type(text)


def test_reset_by_keyboard_only(visitor: Visitor, directory: SlapdStack) -> None:
    person = directory.add_person()
    keyboard = visitor.page.keyboard
    visitor.open("/reset/")
    expect(visitor.field("user name")).to_be_focused()   # the page opens in its first field
    tab_to(visitor, visitor.page.get_by_role("link", name=re.compile("skip to main content", re.I)), "Shift+Tab")
    keyboard.press("Enter")
    type_into(visitor, "user name", person.login)
    visitor.check("identify, typed")
    keyboard.press("Enter")

    visitor.heading("verify it is you")
    tab_to(visitor, visitor.page.get_by_role("radio", name=re.compile("alternate email", re.I)))
    keyboard.press("Space")
    expect(visitor.page.get_by_role("radio", name=re.compile("alternate email", re.I))).to_be_checked()
    visitor.check("method chosen")
    tab_to(visitor, visitor.page.get_by_role("button", name=re.compile("continue", re.I)))
    keyboard.press("Enter")

    visitor.heading("enter the code")
    code = visitor.code_mailed_to(person.alternate_email)
    type_into(visitor, "^code$", wrong(code))
    keyboard.press("Enter")
    visitor.field_says("^code$", "not right")
    visitor.check("wrong code")
    type_into(visitor, "^code$", code)
    keyboard.press("Enter")

    visitor.heading("choose a new password")
    type_into(visitor, "^new password$", NEW_PASSWORD)
    type_into(visitor, "^new password again$", NEW_PASSWORD)
    visitor.check("new password typed")
    keyboard.press("Enter")

    visitor.heading("password was changed")
    visitor.check("password changed")
    assert directory.binds(person, NEW_PASSWORD)
