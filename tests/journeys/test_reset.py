"""Resetting a forgotten password, in the browser: by a code mailed to the alternate address,
by a code texted to the mobile, by an authenticator app, by security questions plus another
method; unlocking without a reset (chosen on the first page); an administrator's two methods.
Each form also shows one of its errors once: each method's own journey a wrong code (or wrong
answers) first, the reset by email also a missing name and a password the rules refuse (the same
pages in the others)."""
from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.journeys.steps import NEW_PASSWORD, REFUSED_PASSWORD, Portal, Visitor, authenticator_code, wrong
from tests.reset_support import ADMINS, ANSWERS, PILOT, Person, SlapdStack, register_questions, register_totp

# what the questions page asks, by the words a person reads (tests/reset_support.py's ANSWERS)
ANSWER_TO = {"first pet": ANSWERS["first-pet"], "first car": ANSWERS["first-car"],
             "street you grew up on": ANSWERS["childhood-street"]}


def identify(visitor: Visitor, login: str, *, forgotten_first: bool = False, need: str = "") -> None:
    """The first page (`forgotten_first`: Next with the name missing, once; `need`: the words of
    the choice of what the person needs, when not the one chosen already, "I forgot my password")."""
    visitor.open("/reset/")
    visitor.heading("reset your password")
    visitor.check("identify")
    if forgotten_first:
        visitor.press("^Next$")
        visitor.field_says("user name", "enter your user name")
        visitor.check("identify, name missing")
    visitor.fill("user name", login)
    if need:
        visitor.choose(need)
        visitor.check("identify, need chosen")
    visitor.press("^Next$")
    visitor.heading("verify it is you")
    visitor.check("choose a method")


def by_code(visitor: Visitor, method: str, code_arrives: Callable[[], str], state: str, *,
            wrong_first: bool = False) -> None:
    """Choose a method that asks for a code and type the one that came (`wrong_first`: after a
    wrong one)."""
    visitor.choose(method)
    visitor.press("continue")
    visitor.heading("enter the code")
    visitor.check(state)
    code = code_arrives()
    if wrong_first:
        visitor.enter_code(wrong(code))
        visitor.field_says("^code$", "not right")
        visitor.check(f"{state}, wrong code")
    visitor.enter_code(code)


def choose_new_password(visitor: Visitor, *, refused_first: bool = False) -> None:
    """The password page (`refused_first`: one the rules refuse, once), then the confirmation."""
    visitor.heading("choose a new password")
    visitor.check("new password")
    if refused_first:
        visitor.new_password(REFUSED_PASSWORD)
        visitor.press("set the new password")
        visitor.field_says("^new password$", "^use at least 12 characters")   # its own message, then the rules
        visitor.check("new password refused")
    visitor.new_password(NEW_PASSWORD)
    visitor.press("set the new password")
    visitor.heading("password was changed")
    visitor.check("password changed")


def test_reset_by_email_code(visitor: Visitor, directory: SlapdStack) -> None:
    person = directory.add_person()
    identify(visitor, person.login, forgotten_first=True)

    by_code(visitor, "alternate email", lambda: visitor.code_mailed_to(person.alternate_email), "mailed code",
            wrong_first=True)

    choose_new_password(visitor, refused_first=True)
    assert directory.binds(person, NEW_PASSWORD)


def test_reset_by_sms_code(visitor: Visitor, directory: SlapdStack) -> None:
    person = directory.add_person()
    identify(visitor, person.login)

    by_code(visitor, "mobile phone", lambda: visitor.code_texted_to(person.mobile), "texted code",
            wrong_first=True)

    choose_new_password(visitor)
    assert directory.binds(person, NEW_PASSWORD)


def test_reset_by_authenticator(visitor: Visitor, portal: Portal, directory: SlapdStack) -> None:
    person = directory.add_person(with_methods=False)
    secret = register_totp(portal.app, person)
    identify(visitor, person.login)

    by_code(visitor, "authenticator app", lambda: authenticator_code(secret), "authenticator code", wrong_first=True)

    choose_new_password(visitor)
    assert directory.binds(person, NEW_PASSWORD)


def answer_questions(visitor: Visitor, right: bool) -> None:
    visitor.heading("security questions")
    asked = [question for question in ANSWER_TO if visitor.page.get_by_label(question, exact=False).count()]
    assert len(asked) == 2, asked
    for question in asked:
        visitor.page.get_by_label(question, exact=False).fill(ANSWER_TO[question] if right else "not this")
    visitor.press("verify")


@pytest.mark.portal_environ(PORTAL_REGISTRATION__METHODS_REQUIRED="2")
def test_reset_by_questions_plus_another_method(visitor: Visitor, portal: Portal, directory: SlapdStack) -> None:
    person = directory.add_person()
    register_questions(portal.app, person)
    identify(visitor, person.login)

    visitor.choose("security questions")
    visitor.press("continue")
    visitor.check("questions")
    answer_questions(visitor, right=False)
    visitor.field_says("first|street|car", "not right")
    visitor.check("questions, wrong answers")
    answer_questions(visitor, right=True)
    visitor.says("one more method")
    visitor.check("choose the second method")
    by_code(visitor, "alternate email", lambda: visitor.code_mailed_to(person.alternate_email), "mailed code")

    choose_new_password(visitor)
    assert directory.binds(person, NEW_PASSWORD)


def test_unlock_without_reset(visitor: Visitor, directory: SlapdStack) -> None:
    person = directory.add_person()
    directory.lock(person)
    identify(visitor, person.login, need="locked out")
    by_code(visitor, "alternate email", lambda: visitor.code_mailed_to(person.alternate_email), "mailed code")
    visitor.heading("unlock your account")
    visitor.says("or choose a new password instead")
    visitor.check("unlock or new password")

    visitor.press("unlock my account")

    visitor.heading("account is unlocked")
    visitor.check("unlocked")
    assert directory.binds(person, person.password)


def test_administrator_resets_with_two_methods(visitor: Visitor, portal: Portal, directory: SlapdStack) -> None:
    admin: Person = directory.add_person(groups=(PILOT, ADMINS))
    register_questions(portal.app, admin)   # registered, yet never offered to an administrator
    identify(visitor, admin.login)

    by_code(visitor, "alternate email", lambda: visitor.code_mailed_to(admin.alternate_email), "mailed code")
    visitor.heading("verify it is you")
    visitor.says("one more method")
    expect(visitor.page.get_by_role("radio", name=re.compile("security questions", re.I))).to_have_count(0)
    visitor.check("choose the second method")
    by_code(visitor, "mobile phone", lambda: visitor.code_texted_to(admin.mobile), "texted code")

    choose_new_password(visitor)
    assert directory.binds(admin, NEW_PASSWORD)
