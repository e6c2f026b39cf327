"""A reset by passkey, against real slapd and Samba AD: the options are the same for every name
(no list of credentials, so they tell nobody whether an account exists or has a passkey), each
challenge is answered once, and only the account's own passkey, signing for this origin with a
counter that moved on, passes. A software passkey signs what the portal asked (tests/passkey_support.py)."""
from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from devstack.mailsink import MailSink
from portal.services.proofs import security_info
from portal.services.proofs.methods import passkey
from portal.services.proofs.verification import passkey_sealer, passkey_user_handle
from tests.passkey_support import SoftPasskey
from tests.registration_support import sms_gateway  # noqa: F401
from tests.reset_support import (ADMINS, PILOT, Browser, Person, Stack, app, audit_events, browser,  # noqa: F401
                                 code_sent_to, new_browser, reset_app, stack, user_of)
from tests.support import BASE_URL, SECOND_URL, hosts_toml

OPTIONS = re.compile(r'data-options="([^"]+)"')
PASSKEYS = {"PORTAL_REGISTRATION__METHODS": '["email", "phone", "totp", "passkey", "questions"]'}
NOT_RIGHT = "That is not right, or it has expired"


def app_with_passkeys(reset_app: Callable[..., Flask]) -> Flask:
    return reset_app(environ=PASSKEYS)


def with_passkey(app: Flask, person: Person, origin: str = BASE_URL) -> SoftPasskey:
    """`person` registered a passkey (this software one) as /register saves it."""
    device = SoftPasskey(origin)
    user = user_of(app, person)
    with app.test_request_context(), app.extensions["store"].transaction() as db:
        device.user_handle = passkey_user_handle(user)
        credential = passkey.Credential(device.credential_id, device.cose_key(), "127.0.0.1")
        security_info.save_method(db, user, passkey.KEY, last_used_step=0,
                                  sealed_secret=passkey_sealer().seal(credential.to_json()))
    return device


def asked(browser: Browser, name: str) -> str:
    """Identify as `name`, choose the passkey: the options the page gives the browser."""
    browser.identify(name)
    assert browser.choose("passkey").headers["Location"].endswith("/reset/passkey")
    page = browser.get("/reset/passkey")
    assert page.status_code == 200
    found = OPTIONS.search(browser.text)
    assert found
    return html.unescape(found.group(1))


def answer(browser: Browser, credential: str) -> Any:
    return browser.submit("/reset/passkey", {"credential": credential})


def test_the_options_are_the_same_for_every_name(reset_app: Callable[..., Flask], stack: Stack) -> None:
    app = app_with_passkeys(reset_app)
    owner, without = stack.add_person(), stack.add_person()
    with_passkey(app, owner)

    seen = [json.loads(asked(new_browser(app), name)) for name in (owner.login, without.login, "nobody-here")]

    assert {json.dumps({k: v for k, v in o.items() if k != "challenge"}, sort_keys=True) for o in seen} == {
        json.dumps({"allowCredentials": [], "rpId": "127.0.0.1", "timeout": 300000, "userVerification": "required"},
                   sort_keys=True)}
    assert len({o["challenge"] for o in seen}) == 3   # a new random challenge for each flow


def test_a_reset_by_passkey_and_each_answer_works_once(reset_app: Callable[..., Flask], stack: Stack) -> None:
    app = app_with_passkeys(reset_app)
    person = stack.add_person()
    device = with_passkey(app, person)
    browser = new_browser(app)
    first = device.get(asked(browser, person.login))

    passed = answer(browser, first)

    assert passed.status_code == 303 and passed.headers["Location"].endswith("/reset/password")
    again = new_browser(app)
    asked(again, person.login)
    replayed = answer(again, first)   # the same answer, to a new challenge
    assert replayed.status_code == 400 and NOT_RIGHT in again.text
    assert [e.reason for e in audit_events(app, "passkey.failed")] == ["invalid"]


def test_after_a_failure_the_page_asks_with_a_new_challenge(reset_app: Callable[..., Flask], stack: Stack) -> None:
    app = app_with_passkeys(reset_app)
    person = stack.add_person()
    device = with_passkey(app, person)
    browser = new_browser(app)
    options = asked(browser, person.login)
    assert answer(browser, device.get(options, origin=SECOND_URL)).status_code == 400

    renewed = OPTIONS.search(browser.text)
    assert renewed and json.loads(html.unescape(renewed.group(1)))["challenge"] != json.loads(options)["challenge"]
    stale = answer(browser, device.get(options))   # the right origin, but the used challenge
    assert stale.status_code == 400
    assert answer(browser, device.get(asked_again(browser))).status_code == 303
    assert [e.reason for e in audit_events(app, "passkey.failed")] == ["invalid", "invalid"]


def asked_again(browser: Browser) -> str:
    found = OPTIONS.search(browser.get("/reset/passkey").get_data(as_text=True))
    assert found
    return html.unescape(found.group(1))


def test_a_counter_that_did_not_move_on_is_a_copy_and_is_refused(reset_app: Callable[..., Flask], stack: Stack) -> None:
    app = app_with_passkeys(reset_app)
    person = stack.add_person()
    device = with_passkey(app, person)
    browser = new_browser(app)
    assert answer(browser, device.get(asked(browser, person.login))).status_code == 303
    device.sign_count = 0   # a copy of the key, made before that use

    other = new_browser(app)
    refused = answer(other, device.get(asked(other, person.login)))

    assert refused.status_code == 400 and NOT_RIGHT in other.text
    assert [e.reason for e in audit_events(app, "passkey.failed")] == ["sign_count"]


def test_another_persons_passkey_gets_the_same_answer_as_a_wrong_one(reset_app: Callable[..., Flask], stack: Stack) -> None:
    app = app_with_passkeys(reset_app)
    owner, other = stack.add_person(), stack.add_person()
    owners_device = with_passkey(app, owner)
    with_passkey(app, other)
    browser = new_browser(app)

    refused = answer(browser, owners_device.get(asked(browser, other.login)))

    assert refused.status_code == 400 and NOT_RIGHT in browser.text
    assert [e.reason for e in audit_events(app, "passkey.failed")] == ["other_credential"]


def test_a_passkey_works_on_the_host_it_was_made_on_only(reset_app: Callable[..., Flask], stack: Stack) -> None:
    """With [hosts], each host is its own relying party (its base_url's host name)."""
    app = reset_app(environ=PASSKEYS, tables=hosts_toml())
    person = stack.add_person()
    device = with_passkey(app, person)   # made on 127.0.0.1, base_url's host
    second = Browser(OnHost(app.test_client(), SECOND_URL))  # type: ignore[arg-type]
    options = asked(second, person.login)
    assert json.loads(options)["rpId"] == "localhost"

    refused = answer(second, SoftPasskey(SECOND_URL, key=device.key, credential_id=device.credential_id,
                                         user_handle=device.user_handle).get(options))

    assert refused.status_code == 400 and NOT_RIGHT in second.text
    assert [e.reason for e in audit_events(app, "passkey.failed")] == ["other_credential"]
    first = new_browser(app)
    assert answer(first, device.get(asked(first, person.login))).status_code == 303


class OnHost:
    """A test client whose every request goes to `base_url`'s host (the second host of [hosts])."""

    def __init__(self, client: FlaskClient, base_url: str) -> None:
        self.client, self.base_url = client, base_url

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, base_url=self.base_url, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(path, base_url=self.base_url, **kwargs)


def test_an_administrator_who_must_have_a_passkey_resets_with_it(
        reset_app: Callable[..., Flask], stack: Stack, mailbox: MailSink) -> None:
    app = reset_app(environ={**PASSKEYS, "PORTAL_REGISTRATION__ADMIN_REQUIRES_PASSKEY": "true"})
    admin = stack.add_person(groups=(PILOT, ADMINS))   # an alternate email and a mobile, and ...
    device = with_passkey(app, admin)                 # ... a passkey
    browser = new_browser(app)
    browser.identify(admin.login)
    browser.choose("email")
    assert browser.enter_code(code_sent_to(mailbox, admin.alternate_email)).headers["Location"].endswith("/verify")

    browser.get("/reset/verify")
    assert "Passkey" in browser.text and "Mobile phone" not in browser.text   # the second must be the passkey
    assert browser.choose("phone").status_code == 409
    assert browser.choose("passkey").headers["Location"].endswith("/reset/passkey")
    assert answer(browser, device.get(asked_again(browser))).headers["Location"].endswith("/reset/password")
