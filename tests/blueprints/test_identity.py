"""Two accounts are never one: names that look alike or fold together, at the portal's doors.

A typed name means the account the directory's own matching gives for it (what each test
directory makes of such names: tests/lookalike_names.py); a signed-in person is the account
that carries the provider's username; a name folded by the portal never reaches another
account. /change has its own tests of this in test_change.py, the ambiguous name in
test_reset_enumeration.py.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

from devstack import ldif
from devstack.people import BASE_DN, GROUPS_OU, PEOPLE_OU, Person
from devstack.slapd import Slapd, person_attributes
from portal.adapters.directory import directory_for
from portal.services.proofs import security_info
from tests.conftest import provider_callback
from tests.lookalike_names import PAIRS, SHARP_S, Pair, pair_id
from tests.registration_support import SmsGatewayServer, post, sms_gateway  # noqa: F401
from tests.reset_support import (  # noqa: F401
    NEW_PASSWORD,
    PILOT,
    Browser,
    Stack,
    app,
    audit_events,
    browser,
    new_browser,
    reset_app,
    signed_in,
    stack,
    user_of,
)

QUESTIONS = {"question_1": "first-pet", "answer_1": "Rex the Dog", "question_2": "first-car",
             "answer_2": "Volvo 240", "question_3": "childhood-street", "answer_3": "Elm Street"}
FULLWIDTH = next(p for p in PAIRS if p.key == "fullwidth")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_identify_starts_a_real_flow_only_for_the_account_the_directory_matches(
        app: Flask, stack: Stack, pair: Pair) -> None:
    look_alike, name = pair.names()
    existing = stack.add_person(login=name)
    new_browser(app).identify(look_alike)
    new_browser(app).identify(existing.login)
    by_look_alike, by_own_name = ((e.username, e.reason) for e in audit_events(app, "reset.identify"))
    assert by_own_name == (existing.login, None)  # an account that can reset...
    if pair.one_name(stack.kind):  # ...and the directory holds the look-alike as the same name
        assert by_look_alike == by_own_name
    else:  # ...and another name, which nobody has: a decoy flow, like any unknown name
        assert by_look_alike == (None, "unknown_account")


def test_registration_saves_to_the_signed_in_account(app: Flask, stack: Stack, browser: Browser,
                                                     slapd: Slapd) -> None:
    me, them = (stack.add_person(login=name) for name in SHARP_S.names())
    signed_in(browser, stack, me, slapd)
    assert post(browser.client, "/register/questions", QUESTIONS).status_code == 302
    with app.test_request_context(), app.extensions["store"].transaction() as db:
        mine = security_info.load(db, user_of(app, me), [], app.extensions["settings"].registration.phone)
        assert security_info.find_profile(db, user_of(app, them).directory_id) is None
    assert len(mine.answered) == 3


def add_unseen_by_the_provider(slapd: Slapd, login: str, password: str) -> str:
    """An account in the portal's base that the provider does not sign in (not an inetOrgPerson):
    in the pilot group, without any method, so registration would be due at sign-in."""
    dn = f"cn={ldif.escape_rdn_value(login)},{PEOPLE_OU}"
    slapd.apply(ldif.document([
        ldif.entry(dn, {"objectClass": ["person", "uidObject"], "cn": login, "sn": "Portal", "uid": login,
                        "userPassword": password}),
        ldif.modify(f"cn={PILOT},{GROUPS_OU}", add={"member": dn})]))
    return dn


def add_outside_the_portal_s_base(slapd: Slapd, login: str, password: str) -> None:
    """A person only the provider knows: in an organizational unit the portal does not search."""
    unit = f"ou=partners-{uuid.uuid4().hex[:8]},{BASE_DN}"
    person = Person(login, "Partner", "Person", password)
    slapd.apply(ldif.document([
        ldif.entry(unit, {"objectClass": "organizationalUnit", "ou": unit.split(",")[0][3:]}),
        ldif.entry(f"uid={ldif.escape_rdn_value(login)},{unit}", person_attributes(person))]))


@pytest.mark.parametrize("stack", ["slapd"], indirect=True)
def test_a_signed_in_name_reaches_only_an_account_that_carries_it(reset_app: Any, stack: Stack,
                                                                  slapd: Slapd) -> None:
    """slapd holds "ｆｕｌｌ" and "full" as one name. Someone the provider knows as "ｆｕｌｌ-…" is
    not the portal's "full-…": no page acts on that account, though a lookup of the typed name
    would reach it."""
    app = reset_app({"PORTAL_REGISTRATION__REQUIRE_REGISTRATION": "true"})
    vouched, own = FULLWIDTH.names()
    password = f"Same.{uuid.uuid4().hex[:8]}.Pw1!"
    account_dn = add_unseen_by_the_provider(slapd, own, password)
    add_outside_the_portal_s_base(slapd, vouched, password)
    with app.test_request_context():
        typed = directory_for(app).find_user(vouched)
    assert typed is not None and typed.login == own  # the directory's own matching

    browser = new_browser(app)
    arrived = browser.client.get(provider_callback(browser.client, vouched, password))
    assert arrived.headers["Location"] == "/"  # not sent to register for that account
    assert browser.get("/register").status_code == 403
    changed = browser.submit("/change/", {"current_password": password, "new_password": NEW_PASSWORD,
                                          "new_password_again": NEW_PASSWORD}, form_page="/change/")
    assert changed.status_code == 400 and "current password is not correct" in browser.text
    assert slapd.binds(account_dn, password)
