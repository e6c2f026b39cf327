"""/change: a known password replaced by a new one, signed in or with the login name, on slapd and Samba AD."""
from __future__ import annotations

import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from devstack.mailsink import MailSink
from tests.conftest import provider_callback
from tests.lookalike_names import APART_EVERYWHERE, PAIRS, Pair, pair_id
from tests.parallel_support import at_once
from tests.registration_support import SmsGatewayServer, sms_gateway  # noqa: F401
from tests.reset_support import (NEW_PASSWORD, Browser, Stack, app, audit_events, browser,  # noqa: F401
                                 change, mails_to, new_browser, reset_app, signed_in, stack)
from tests.services.passwords.breached_support import ONCE as BREACHED_ONCE
from tests.services.passwords.breached_support import breached_toml, pwned_file  # noqa: F401

TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')


def test_signed_in_change_with_the_right_password(app: Flask, stack: Stack, browser: Browser, slapd: Any,
                                                  mailbox: MailSink) -> None:
    person = stack.add_person()
    signed_in(browser, stack, person, slapd)
    page = browser.get("/change/")
    assert "Current password" in browser.text and 'name="login"' not in browser.text
    assert "Not a common password" in page.get_data(as_text=True)  # the rules, before typing

    assert change(browser, person.password).status_code == 200
    assert "Your password was changed" in browser.text
    assert stack.binds(person, NEW_PASSWORD) and not stack.binds(person, person.password)
    mails_to(mailbox, person.alternate_email, "Your password was changed")
    assert [e.outcome for e in audit_events(app, "password.change")] == ["attempted", "success"]


def test_signed_in_change_with_a_wrong_password(app: Flask, stack: Stack, browser: Browser, slapd: Any) -> None:
    person = stack.add_person()
    signed_in(browser, stack, person, slapd)
    assert change(browser, "not my password").status_code == 400
    assert "current password is not correct" in browser.text
    assert stack.binds(person, person.password)


@pytest.mark.parametrize("pair", APART_EVERYWHERE, ids=pair_id)
def test_a_signed_in_person_changes_only_their_own_password(app: Flask, stack: Stack, browser: Browser,
                                                            slapd: Any, pair: Pair) -> None:
    """A signed-in "straße" changes straße's password, never that of "strasse", even when both
    have the same one: the account is the entry that carries the provider's username."""
    password = f"Old.{uuid.uuid4().hex[:8]}.Pw1!"
    me, them = (stack.add_person(login=name, password=password) for name in pair.names())
    signed_in(browser, stack, me, slapd)
    assert change(browser, password).status_code == 200
    assert stack.binds(me, NEW_PASSWORD)
    assert stack.binds(them, password) and not stack.binds(them, NEW_PASSWORD)


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_a_look_alike_login_changes_only_what_the_directory_calls_that_name(
        app: Flask, stack: Stack, pair: Pair) -> None:
    look_alike, name = pair.names()
    person = stack.add_person(login=name)
    answer = change(new_browser(app), person.password, login=look_alike)
    if pair.one_name(stack.kind):  # the directory's own matching: the same name
        assert answer.status_code == 200 and stack.binds(person, NEW_PASSWORD)
    else:  # another name, which nobody has: the "wrong password" answer, nothing changed
        assert answer.status_code == 400 and stack.binds(person, person.password)


def test_signed_out_change_with_login_and_password(app: Flask, stack: Stack, browser: Browser) -> None:
    person = stack.add_person()
    assert change(browser, person.password, login=person.login).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(app: Flask, stack: Stack) -> None:
    person = stack.add_person()
    wrong = change(new_browser(app), "not my password", login=person.login)
    unknown = change(new_browser(app), "not my password", login="nobody-here")
    assert wrong.status_code == unknown.status_code == 400
    # the login name typed stays in its field; apart from it, the pages are the same
    assert (TOKEN.sub("", wrong.get_data(as_text=True)).replace(f'value="{person.login}"', 'value="typed"')
            == TOKEN.sub("", unknown.get_data(as_text=True)).replace('value="nobody-here"', 'value="typed"'))


def test_the_portal_stops_before_the_directory_would_lock_the_account(
        app: Flask, stack: Stack, browser: Browser) -> None:
    person = stack.add_person()  # both test directories lock after 3 failed binds
    for _ in range(2):
        assert change(browser, "not my password", login=person.login).status_code == 400
    assert change(browser, person.password, login=person.login).status_code == 429
    assert "Too many wrong passwords" in browser.text
    assert stack.binds(person, person.password)  # not locked in the directory
    assert audit_events(app, "password.change")[-1].reason == "throttled"


def test_parallel_wrong_passwords_never_reach_the_directory_s_lockout(reset_app: Any, stack: Stack) -> None:
    """Each try is counted before the directory is asked: of 15 at once only the guard's 2 reach it."""
    app = reset_app({"PORTAL_CHANGE__PER_IP_PER_HOUR": "1000"})
    person = stack.add_person()  # both test directories lock after 3 failed binds
    browser = new_browser(app)
    form = {"csrf_token": browser.client.csrf_token("/change/"), "login": person.login,
            "current_password": "not my password", "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}

    statuses = at_once(app, browser.client.session_cookie or "", "/change/", form, 15)

    assert Counter(statuses) == {400: 2, 429: 13}
    assert [e.reason for e in audit_events(app, "password.change")].count("wrong_password") == 2
    assert stack.binds(person, person.password)  # not locked in the directory


def test_the_rules_and_the_directory_s_history_apply(app: Flask, stack: Stack, browser: Browser) -> None:
    person = stack.add_person()
    assert change(browser, person.password, "Password1234!", login=person.login).status_code == 400
    assert "most common passwords" in browser.text
    assert change(browser, person.password, person.password, login=person.login).status_code == 400
    assert "You used this password recently" in browser.text
    assert stack.binds(person, person.password)


def test_a_password_from_a_breach_is_refused_with_the_reason(reset_app: Any, stack: Stack,
                                                             pwned_file: tuple[Path, list[bytes]]) -> None:
    app = reset_app(tables=breached_toml(file=str(pwned_file[0])))
    person = stack.add_person()
    browser = new_browser(app)
    assert "Not a password known from data breaches" in browser.get("/change/").get_data(as_text=True)
    assert change(browser, person.password, BREACHED_ONCE, login=person.login).status_code == 400
    assert "This password has appeared in a data breach" in browser.text
    assert stack.binds(person, person.password)
    assert [e.reason for e in audit_events(app, "password.change")] == ["breached"]
    assert change(browser, person.password, login=person.login).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)


def test_change_works_when_reset_is_rolled_out_to_nobody(reset_app: Any, stack: Stack) -> None:
    app = reset_app({"PORTAL_ROLLOUT__RESET": "nobody"})
    person = stack.add_person()
    assert change(new_browser(app), person.password, login=person.login).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)


def test_a_password_changed_too_recently_cannot_be_changed_again(app: Flask, stack: Stack) -> None:
    person = stack.add_person(min_age=True)  # its password was set just now, by IT
    browser = new_browser(app)
    assert change(browser, person.password, login=person.login).status_code == 400
    assert "changed too recently" in browser.text
    assert stack.binds(person, person.password)
