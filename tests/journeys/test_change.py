"""Changing a known password in the browser, signed in (the portal knows who) and signed out
(the person names the account), and signing out. Each change form shows an error first: a
password the rules refuse, a missing field."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.journeys.steps import NEW_PASSWORD, REFUSED_PASSWORD, Visitor
from tests.reset_support import SlapdStack


def changed(visitor: Visitor) -> None:
    visitor.press("change my password")
    visitor.heading("password was changed")
    visitor.check("password changed")


def test_change_signed_in(visitor: Visitor, directory: SlapdStack) -> None:
    person = directory.add_person()
    visitor.sign_in(person, then="/change/")
    visitor.heading("change your password")
    visitor.says(f"changing the password of {person.login}")
    visitor.check("change form")
    visitor.fill("current password", person.password)
    visitor.new_password(REFUSED_PASSWORD)
    visitor.press("change my password")
    visitor.field_says("^new password$", "^use at least 12 characters")   # its own message, then the rules
    visitor.check("new password refused")

    visitor.fill("current password", person.password)
    visitor.new_password(NEW_PASSWORD)
    changed(visitor)
    assert directory.binds(person, NEW_PASSWORD)


def test_change_signed_out(visitor: Visitor, directory: SlapdStack) -> None:
    person = directory.add_person()
    visitor.open("/change/")
    visitor.heading("change your password")
    visitor.check("change form")
    visitor.fill("current password", person.password)
    visitor.new_password(NEW_PASSWORD)
    visitor.press("change my password")   # the account is not named
    visitor.announced("enter your user name")
    visitor.field_says("user name", "enter your user name")
    visitor.check("account name missing")

    visitor.fill("user name", person.login)
    visitor.fill("current password", person.password)
    visitor.new_password(NEW_PASSWORD)
    changed(visitor)
    assert directory.binds(person, NEW_PASSWORD)


def test_sign_out(visitor: Visitor, directory: SlapdStack) -> None:
    person = directory.add_person()
    visitor.sign_in(person)
    visitor.says("signed in as")
    visitor.check("signed in")

    visitor.press("^sign out$")
    visitor.page.wait_for_url(lambda url: not url.startswith(visitor.portal))
    visitor.shot("provider asks to sign out")
    visitor.press("yes, sign me out")   # the provider's page: signed out there too

    visitor.page.wait_for_url(lambda url: url.startswith(visitor.portal + "/"))
    expect(visitor.page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(visitor.page.get_by_text("Signed in as")).to_have_count(0)
    visitor.check("signed out")
