"""Registering security info in the browser: a person with nothing registered adds an alternate
email (code by mail), a mobile phone (code by SMS), an authenticator app (the key shown on the
page) and security questions, then confirms the info is still correct. Each form shows one of
its errors first: a missing address, a wrong code, questions left unanswered."""
from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from tests.journeys.steps import Visitor, authenticator_code, wrong
from tests.reset_support import SlapdStack

ADDRESS = "someone.home@mail.example"
MOBILE = "+1 201 555 0187"
MOBILE_E164 = "+12015550187"
QUESTIONS = {"first pet": "Rex the dog", "first car": "Volvo 240", "street you grew up on": "Elm Street"}


def registered(visitor: Visitor, method: str) -> None:
    """Back on the overview, which says the method is registered now."""
    visitor.heading("security info")
    row = visitor.page.get_by_role("listitem").filter(has=visitor.page.get_by_role("heading", name=method))
    expect(row).to_contain_text(re.compile("registered", re.I))


def by_code_sent(visitor: Visitor, method: str, address_label: str, address: str,
                 code_arrives: Callable[[], str]) -> None:
    """Add a method that sends a code: the address is missing once, the code wrong once."""
    visitor.follow(f"^add {method}")
    visitor.heading(method)
    visitor.check(f"{method}")
    visitor.press("send a code")
    visitor.field_says(address_label, "enter (an email address|a mobile phone number)")
    visitor.check(f"{method}, address missing")
    visitor.fill(address_label, address)
    visitor.press("send a code")
    visitor.heading("enter the code")
    visitor.check(f"{method}, enter the code")
    code = code_arrives()
    visitor.enter_code(wrong(code))
    visitor.field_says("^code$", "not right")
    visitor.check(f"{method}, wrong code")
    visitor.enter_code(code)
    registered(visitor, method)
    visitor.check(f"{method} registered")


def authenticator(visitor: Visitor) -> None:
    """Set up the app with the key the page shows (as a person who cannot scan does)."""
    visitor.follow("^set up authenticator app")
    visitor.heading("authenticator app")
    visitor.check("authenticator app")
    secret = visitor.page.get_by_role("code").inner_text()
    visitor.enter_code(wrong(authenticator_code(secret)), label="6-digit code", button="confirm")
    visitor.field_says("6-digit code", "not right")
    visitor.check("authenticator app, wrong code")
    visitor.enter_code(authenticator_code(secret), label="6-digit code", button="confirm")
    registered(visitor, "Authenticator app")
    visitor.check("authenticator app registered")


def questions(visitor: Visitor) -> None:
    """Save with nothing chosen, then choose and answer three questions."""
    visitor.follow("^set up security questions")
    visitor.heading("security questions")
    visitor.check("security questions")
    visitor.press("save")
    visitor.announced("choose 3 different questions")
    visitor.field_says("^question$", "choose 3 different questions")
    visitor.check("security questions, none answered")
    for number, (question, answer) in enumerate(QUESTIONS.items(), start=1):
        group = visitor.page.get_by_role("group", name=f"Question {number}")
        group.get_by_label("Question", exact=True).select_option(label=offered(visitor, question))
        group.get_by_label("Answer", exact=True).fill(answer)
    visitor.press("save")
    registered(visitor, "Security questions")
    visitor.check("security questions registered")


def offered(visitor: Visitor, words: str) -> str:
    """The full text of the offered question that contains `words`."""
    options = visitor.page.get_by_role("option", name=re.compile(words, re.I)).all_inner_texts()
    assert options, words
    return options[0]


def test_register_each_method_and_reconfirm(visitor: Visitor, directory: SlapdStack) -> None:
    person = directory.add_person(with_methods=False)
    visitor.sign_in(person, then="/register")
    visitor.heading("security info")
    visitor.check("nothing registered")

    by_code_sent(visitor, "Alternate email", "email address", ADDRESS, lambda: visitor.code_mailed_to(ADDRESS))
    by_code_sent(visitor, "Mobile phone", "mobile phone number", MOBILE, lambda: visitor.code_texted_to(MOBILE_E164))
    authenticator(visitor)
    questions(visitor)

    visitor.press("these are still correct")
    visitor.says("security info is confirmed")
    visitor.check("confirmed")
