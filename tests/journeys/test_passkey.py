"""Passkeys in Chromium with its virtual authenticator (the DevTools protocol's WebAuthn domain): a
person registers one on /register after proving it is them (a code to their alternate email, their
sign-in being no longer recent), then resets their password with it; a copy of
the key whose sign counter went back is refused, and so is the passkey of another person.

The portal is served under http://localhost:<port> (a [hosts] entry): a relying-party id must be a
domain name, and browsers refuse 127.0.0.1. The passkey is bound to `localhost`, the host name of
that host's base_url. py_webauthn checks real attestations and assertions made by Chromium here.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import CDPSession, Page, ViewportSize

from devstack.mailsink import MailSink
from devstack.oidc_provider import OidcProvider
from devstack.ports import TEST
from devstack.smssink import SmsSink
from portal import clock
from portal.services.proofs import security_info
from portal.services.proofs.methods import passkey
from portal.services.security.crypto import Sealer
from portal.store.audit import AuditEvent
from tests.browser_support import DESKTOP, serving
from tests.journeys.conftest import JOURNEY_ENVIRON
from tests.journeys.steps import NEW_PASSWORD, Portal, Visitor
from tests.journeys.test_reset import choose_new_password, identify
from tests.registration_support import registration_toml
from tests.reset_support import RESET_TABLES, Person, SlapdStack, user_of
from tests.support import SECOND_URL, SECRET_KEY, hosts_toml

WITH_PASSKEYS = {**JOURNEY_ENVIRON,
                 "PORTAL_REGISTRATION__METHODS": '["email", "phone", "totp", "passkey", "questions"]'}
NOT_RIGHT = "That is not right, or it has expired"
ONE_VIEWPORT = pytest.mark.parametrize("viewport", [ViewportSize(**DESKTOP)], ids=["desktop"])  # type: ignore[typeddict-item]


@pytest.fixture
def portal(make_app: Any, oidc_provider: OidcProvider, mailbox: MailSink, texts: SmsSink) -> Iterator[Portal]:
    """The journeys' portal with passkeys on, answering at localhost too (the relying party)."""
    app: Flask = make_app(registration_toml(f"http://127.0.0.1:{TEST.sms}", tables=RESET_TABLES + hosts_toml()),
                          environ=WITH_PASSKEYS)
    with serving(app):
        yield Portal(app, SECOND_URL)


@pytest.fixture
def authenticator(tab: Page) -> tuple[CDPSession, str]:
    """A platform authenticator with resident keys that verifies its user (a fingerprint, say)."""
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("WebAuthn.enable")
    return cdp, new_authenticator(cdp)


def new_authenticator(cdp: CDPSession) -> str:
    found = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})
    return str(found["authenticatorId"])


def register_passkey(visitor: Visitor, person: Person) -> None:
    """Sign in (a fresh sign-in is the proof /register asks for) and create a passkey."""
    visitor.sign_in(person, then="/register")
    visitor.check("security info")
    visitor.page.get_by_role("link", name="Set up Passkey").click()
    visitor.heading("set up a passkey")
    visitor.check("set up a passkey")
    visitor.press("create a passkey")
    visitor.page.wait_for_url(visitor.portal + "/register")
    visitor.says("Your passkey is saved.")
    visitor.check("passkey saved")


def by_passkey(visitor: Visitor, state: str) -> None:
    visitor.choose("passkey")
    visitor.press("continue")
    visitor.heading("use your passkey")
    visitor.check(state)
    visitor.press("use my passkey")


def refusals(app: Flask, login: str) -> list[str | None]:
    with app.extensions["store"].transaction() as db:
        return [e.reason for e in db.query(AuditEvent).filter_by(username=login, event="passkey.failed")]


def test_a_person_registers_a_passkey_and_resets_with_it(
        visitor: Visitor, directory: SlapdStack, authenticator: tuple[CDPSession, str]) -> None:
    person = directory.add_person()   # the directory holds an alternate email: the step-up code goes there
    visitor.sign_in(person, then="/register")
    with clock.travel(timedelta(minutes=15)):   # the sign-in is no longer recent enough for a change
        visitor.page.get_by_role("link", name="Set up Passkey").click()
        visitor.heading("confirm it is you")
        visitor.check("confirm it is you")
        visitor.press("send a code to")   # the first destination: the alternate email
        visitor.enter_code(visitor.code_mailed_to(person.alternate_email))
        visitor.heading("set up a passkey")
        visitor.check("set up a passkey after the step-up")
        visitor.press("create a passkey")
        visitor.page.wait_for_url(visitor.portal + "/register")
        visitor.says("Your passkey is saved.")
        visitor.check("passkey saved")
    with clock.travel(timedelta(minutes=30)):   # later, the step-up is old too: now the passkey proves it
        visitor.page.get_by_role("link", name="Set up again Passkey").click()
        visitor.heading("confirm it is you")
        visitor.check("confirm it is you with the passkey")
        visitor.press("use my passkey")
        visitor.heading("set up a passkey")
    cdp, device = authenticator
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": device})["credentials"]
    assert credential["rpId"] == "localhost" and credential["isResidentCredential"]

    identify(visitor, person.login)
    by_passkey(visitor, "use a passkey")
    choose_new_password(visitor)
    assert directory.binds(person, NEW_PASSWORD)


@ONE_VIEWPORT
def test_a_copy_of_the_key_whose_counter_went_back_is_refused(
        visitor: Visitor, portal: Portal, directory: SlapdStack, authenticator: tuple[CDPSession, str]) -> None:
    person = directory.add_person(with_methods=False)
    register_passkey(visitor, person)
    identify(visitor, person.login)
    by_passkey(visitor, "use a passkey")
    visitor.heading("choose a new password")   # the genuine key works, and its counter moved on

    cdp, device = authenticator
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": device})["credentials"]
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": device})
    clone = new_authenticator(cdp)
    cdp.send("WebAuthn.addCredential", {"authenticatorId": clone, "credential": {**credential, "signCount": 0}})

    identify(visitor, person.login)
    by_passkey(visitor, "use a cloned passkey")
    visitor.heading("use your passkey")
    visitor.says(NOT_RIGHT)
    visitor.check("cloned passkey refused")
    assert refusals(portal.app, person.login) == ["sign_count"]


@ONE_VIEWPORT
def test_the_passkey_of_another_person_is_refused(
        visitor: Visitor, portal: Portal, directory: SlapdStack, authenticator: tuple[CDPSession, str]) -> None:
    owner, other = directory.add_person(with_methods=False), directory.add_person(with_methods=False)
    register_passkey(visitor, owner)   # the device holds the owner's passkey only
    seed_passkey(portal.app, other)    # the other person has one of their own, elsewhere

    identify(visitor, other.login)
    by_passkey(visitor, "another person's passkey")
    visitor.heading("use your passkey")
    visitor.says(NOT_RIGHT)
    assert refusals(portal.app, other.login) == ["other_credential"]


def seed_passkey(app: Flask, person: Person) -> None:
    """A passkey registered to `person` on another device (a credential this browser does not hold)."""
    user = user_of(app, person)
    credential = passkey.Credential(os.urandom(32), os.urandom(77), "localhost")
    with app.test_request_context(), app.extensions["store"].transaction() as db:
        security_info.save_method(db, user, passkey.KEY, last_used_step=0,
                                  sealed_secret=Sealer(SECRET_KEY, passkey.SEAL_PURPOSE).seal(credential.to_json()))

