"""The password typed is the password set, on slapd and Samba AD: no character is rewritten on the way.

ldap3 would run SASLprep over a bind's password (a no-break space becomes a space, a soft hyphen
disappears) while Password Modify and unicodePwd send it as typed: the bind then failed, and
counted toward the lockout. Each password below is set by a reset, checked by a bind outside the
portal, and then proven by the portal's own bind in /change, which replaces it with the next.
The characters no directory is sent are refused up front with one message, on change and reset,
for a known and an unknown login alike, and by the adapter itself before any bind or write.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from devstack.mailsink import MailSink
from portal.adapters.directory import PasswordCharactersRefused, directory_for
from portal.adapters.directory.passwords import as_typed, refused
from portal.adapters.directory.errors import DirectoryError
from tests.conftest import provider_callback
from tests.registration_support import SmsGatewayServer, sms_gateway  # noqa: F401
from tests.reset_support import (Browser, Stack, app, browser, new_browser, reset_app, stack,  # noqa: F401
                                 user_of, verified_by_email)

# what SASLprep would have rewritten or refused, each in a password the rules and AD's complexity accept
AS_TYPED = {
    "no-break space": "Marble\u00a0kettle, orbit 42 fennel",
    "soft hyphen": "Quartz tun\u00addra, violet 77 jigsaw",
    "zero-width space and joiner": "Copper\u200b lantern\u200d, 58 walrus",
    "ligature (NFKC: fi)": "Harbour \ufb01nch, 31 ginger Pebble",
    "fullwidth letter": "\uff33ilver canyon, 64 otter mint",
    "private use": "Amber\ue000 glacier, 19 pepper Moss",
    "right-to-left letters among latin ones": "Cedar \u0634\u0645\u0633 mango, 27 Raven",
    "ideographic space": "Velvet\u3000comet, 83 tulip Zebra",
}
REFUSED = {
    "NUL": "Nul\x00byte orbit, 42 fennel",
    "BEL": "Bell\x07ringer orbit, 42 fennel",
    "tab": "Tab\tbetween orbit, 42 fennel",
    "NEL (U+0085)": "Next\x85line orbit, 42 fennel",
    "DEL": "Delete\x7f orbit, 42 fennel",
    "noncharacter U+FFFE": "Non\ufffecharacter orbit, 42",
    "noncharacter U+FDD0": "Non\ufdd0character orbit, 42",
    "lone surrogate": "Lone\ud800surrogate orbit, 42",
}
TYPABLE_REFUSED = {label: text for label, text in REFUSED.items() if label != "lone surrogate"}  # a form can carry
MESSAGE = "Passwords cannot contain control characters"
TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')


def change(browser: Browser, login: str, current: str, new: str) -> object:
    return browser.submit("/change/", {"login": login, "current_password": current, "new_password": new,
                                       "new_password_again": new}, form_page="/change/")


def test_the_characters_refused_are_controls_surrogates_and_noncharacters_only() -> None:
    for point in range(sys.maxunicode + 1):
        ch = chr(point)
        expected = unicodedata.category(ch) in ("Cc", "Cs") or 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE
        assert refused(ch) is expected, hex(point)
    assert all(refused(password) for password in REFUSED.values())
    assert not any(refused(password) for password in AS_TYPED.values())
    assert not refused("emoji \U0001f469\u200d\U0001f4bb and \U000f0000 private plane 15")
    assert as_typed("a\u00a0b") == b"a\xc2\xa0b"  # UTF-8 of exactly what was typed, no space instead


def test_a_password_is_set_bound_and_changed_exactly_as_typed(app: Flask, stack: Stack, browser: Browser,
                                                                mailbox: MailSink, slapd: object) -> None:
    person = stack.add_person()
    passwords = list(AS_TYPED.values())
    verified_by_email(browser, mailbox, person)
    assert browser.set_password(passwords[0]).status_code == 200, browser.text
    assert stack.binds(person, passwords[0]) and not stack.binds(person, person.password)

    for current, new in zip(passwords, passwords[1:]):
        answer = change(new_browser(app), person.login, current, new)
        assert answer.status_code == 200, f"{current!a} -> {new!a}: {answer.get_data(as_text=True)[-600:]}"
        assert stack.binds(person, new) and not stack.binds(person, current), f"{new!a}"
    if stack.name == "slapd":  # the provider binds with its own LDAP client (ldapts), as typed too
        last = passwords[-1]
        callback = provider_callback(browser.client, person.login, last)
        assert browser.client.get(callback).status_code == 302


def test_refused_characters_get_one_clear_message_on_change_for_any_login(reset_app: Any, stack: Stack) -> None:
    app = reset_app({"PORTAL_CHANGE__PER_IP_PER_HOUR": "1000"})
    person = stack.add_person()
    for label, password in TYPABLE_REFUSED.items():
        for field in ("current_password", "new_password"):
            fields = {"current_password": person.password, "new_password": "Marble kettle, orbit 42 fennel"}
            fields[field] = password
            known, unknown = (new_browser(app).submit("/change/", {
                "login": login, **fields, "new_password_again": fields["new_password"]}, form_page="/change/")
                for login in (person.login, "nobody-at-all"))
            assert known.status_code == unknown.status_code == 400, label
            page = known.get_data(as_text=True).replace(f'value="{person.login}"', 'value="nobody-at-all"')
            # the same page apart from the login name typed, which the form keeps
            assert MESSAGE in page and TOKEN.sub("", page) == TOKEN.sub("", unknown.get_data(as_text=True)), label
    assert stack.binds(person, person.password)  # nothing was changed, nothing locked


def test_refused_characters_get_one_clear_message_on_reset(app: Flask, stack: Stack, browser: Browser,
                                                            mailbox: MailSink) -> None:
    person = stack.add_person()
    verified_by_email(browser, mailbox, person)
    for label, password in TYPABLE_REFUSED.items():
        answer = browser.set_password(password)
        assert answer.status_code == 400 and MESSAGE in browser.text, label
    assert stack.binds(person, person.password)
    assert browser.set_password(AS_TYPED["no-break space"]).status_code == 200  # the same flow goes on


def test_the_adapter_refuses_them_too_before_any_bind_or_write(app: Flask, stack: Stack) -> None:
    person = stack.add_person()
    user = user_of(app, person)
    directory = directory_for(app)
    with app.test_request_context():
        for label, password in REFUSED.items():
            for attempt in (lambda: directory.verify_password(user, password),
                            lambda: directory.change_password(user, person.password, password),
                            lambda: directory.reset_password(user, password, unlock=False)):
                with pytest.raises(PasswordCharactersRefused):
                    attempt()
    assert stack.binds(person, person.password)


def test_what_ldap3_cannot_encode_becomes_a_domain_error(app: Flask, stack: Stack) -> None:
    """A DN ldap3 cannot encode (a lone surrogate) fails as DirectoryError, never as UnicodeError."""
    person = stack.add_person()
    broken = replace(user_of(app, person), dn=f"{user_of(app, person).dn}\udc80",
                     policy_dn=f"{user_of(app, person).dn}\udc80")  # the rules are read where the entry named them
    directory = directory_for(app)
    with app.test_request_context():
        for attempt in (lambda: directory.verify_password(broken, person.password),
                        lambda: directory.password_policy(broken)):
            with pytest.raises(DirectoryError):
                attempt()
        assert directory.find_user(person.login) is not None  # the pool still works afterwards
