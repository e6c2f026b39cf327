"""The forgotten-password reset end to end, against real slapd and Samba AD, mail and SMS."""
from __future__ import annotations

from flask import Flask

from devstack.mailsink import MailSink
from tests.registration_support import SmsGatewayServer, sms_gateway  # noqa: F401
from tests.reset_support import (NEW_PASSWORD, Browser, Stack, app, audit_events, browser, code_sent_to,  # noqa: F401
                                 mails_to, reset_app, stack, verified_by_email)


def test_full_reset_by_email_code(app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()

    assert browser.identify(person.login).status_code == 303
    assert browser.get("/reset/verify").status_code == 200
    assert browser.choose("email").headers["Location"].endswith("/reset/code")
    answer = browser.enter_code(code_sent_to(mailbox, person.alternate_email))
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/reset/password")
    page = browser.get("/reset/password")
    assert "Not a common password" in browser.text
    done = browser.set_password(NEW_PASSWORD)

    assert done.status_code == 200, browser.text
    assert "Your password was changed" in browser.text
    assert stack.binds(person, NEW_PASSWORD) and not stack.binds(person, person.password)
    notice = mails_to(mailbox, person.alternate_email, "Your password was reset")
    assert "If this was not you" in notice.get_body(("plain",)).get_content()
    with browser.client.session_transaction() as session:
        assert "user" not in session  # no automatic sign-in after a reset
    assert [e.outcome for e in audit_events(app, "reset.password")] == ["success"]
