"""/helpdesk: an agent checks a caller's code, then resets or unlocks; against real slapd and Samba AD."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ldap3
import pyotp
import pytest
from flask import Flask

from devstack.mailsink import MailSink
from tests.conftest import PortalClient
from tests.helpdesk_support import AGENT, NOT_AGENT, Desk, app, desk  # noqa: F401
from tests.registration_support import mail_body, mid_time_step, sign_in_long_ago, sms_gateway  # noqa: F401
from tests.reset_support import (ADMINS, NEW_PASSWORD, PILOT, Person, Stack, audit_events, code_sent_to,  # noqa: F401
                                 mails_to, new_browser, register_totp, reset_app, stack, user_of)
from tests.support import BASE_URL

TEMPORARY = re.compile(r'<p class="temporary-password"><code>([^<]+)</code></p>')
MUST_CHANGE_AT_LOGON = "data 773"  # AD's bind answer for the right password that must be changed first


def signs_in_to_change(stack: Stack, person: Person, password: str) -> bool:
    """Whether `password` is the account's, to be changed at sign-in: slapd binds (and ppolicy says
    "change after reset"), AD refuses the bind with "must change password" rather than "wrong"."""
    try:
        with stack.connection(person.dn, password.encode("utf-8")):
            return stack.name == "slapd"
    except ldap3.core.exceptions.LDAPException as error:
        return stack.name == "samba" and MUST_CHANGE_AT_LOGON in str(error)


def test_a_signed_in_non_agent_is_refused_on_every_route(app: Flask, client: PortalClient, desk: Desk,
                                                         sign_in_as: Callable[..., Any], stack: Stack) -> None:
    person = stack.add_person()
    sign_in_as(NOT_AGENT)
    assert client.get("/helpdesk/").status_code == 403
    for path in ("/lookup", "/send", "/check", "/reset", "/unlock", "/end"):
        assert desk.post(path, {"query": person.login}).status_code == 403, path
    assert "Help desk" not in client.get("/").get_data(as_text=True)
    assert [e.username for e in audit_events(app, "helpdesk.refused")] == [NOT_AGENT] * 7
    assert audit_events(app, "helpdesk.lookup") == []


def test_signed_out_visitors_are_sent_to_sign_in(client: PortalClient) -> None:
    response = client.get("/helpdesk/")
    assert response.status_code == 302 and "/signin?next=" in response.headers["Location"]


def test_every_page_needs_a_fresh_sign_in(client: PortalClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as(AGENT)
    assert client.get("/helpdesk/").status_code == 200
    assert "Help desk" in client.get("/").get_data(as_text=True)  # the header links agents to it
    sign_in_long_ago(client, minutes=60)
    response = client.get("/helpdesk/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/helpdesk/reauth?next=/helpdesk/")
    again = client.get("/helpdesk/reauth")
    assert again.status_code == 302 and "max_age=0" in again.headers["Location"]


def test_lookup_shows_the_methods_masked_and_is_on_record(app: Flask, desk: Desk, stack: Stack,
                                                          sign_in_as: Callable[..., Any]) -> None:
    person = stack.add_person()
    register_totp(app, person)
    sign_in_as(AGENT)
    assert desk.look_up(person.login).status_code == 302
    page = desk.page()
    assert desk.method_keys() == ["email-directory", "phone-directory", "totp"]
    local = person.alternate_email.split("@")[0]
    assert f"{local[0]}•••{local[-1]}@mail.example" in page and f"••• {person.mobile[-4:]}" in page
    assert person.alternate_email not in page and person.mobile not in page
    assert "Reset the password" not in page  # nothing before a check
    [looked_up] = audit_events(app, "helpdesk.lookup")
    assert (looked_up.username, looked_up.outcome, looked_up.details["agent"]) == (person.login, "success", AGENT)


def test_an_unknown_name_says_so(app: Flask, desk: Desk, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as(AGENT)
    assert desk.look_up("nobody-at-all").status_code == 404
    assert "No account matches" in desk.text
    assert [e.reason for e in audit_events(app, "helpdesk.lookup")] == ["not_found"]


def test_reset_only_after_the_right_code_then_a_temporary_password_that_must_change(
        app: Flask, desk: Desk, stack: Stack, mailbox: MailSink, sign_in_as: Callable[..., Any]) -> None:
    person = stack.add_person()
    sign_in_as(AGENT)
    desk.look_up(person.login)
    assert desk.post("/reset").status_code == 400  # no check yet
    assert "Check a code with the caller first" in desk.text
    assert desk.send("email-directory").status_code == 302
    assert "A code was sent to" in desk.page()
    code = code_sent_to(mailbox, person.alternate_email)
    assert code not in desk.page()
    assert desk.check(code).status_code == 302
    assert "The caller passed the check" in desk.page()

    assert desk.post("/reset").status_code == 200
    [temporary] = TEMPORARY.findall(desk.text)
    assert desk.last.headers["Cache-Control"] == "no-store"
    assert signs_in_to_change(stack, person, temporary) and not stack.binds(person, person.password)
    assert user_of(app, person).state.must_change_password
    assert desk.post("/reset").status_code == 400  # one write per check
    notice = mails_to(mailbox, person.alternate_email, "The help desk reset your password")
    assert temporary not in notice.as_string()
    events = [(e.event, e.outcome, e.username, e.details.get("agent")) for e in audit_events(app, "helpdesk.")]
    assert events == [("helpdesk.lookup", "success", person.login, AGENT),
                      ("helpdesk.code_sent", "success", person.login, AGENT),
                      ("helpdesk.check", "success", person.login, AGENT),
                      ("helpdesk.reset", "attempted", person.login, AGENT),
                      ("helpdesk.reset", "success", person.login, AGENT)]


def test_the_callers_authenticator_code_is_a_check(app: Flask, desk: Desk, stack: Stack,
                                                  sign_in_as: Callable[..., Any]) -> None:
    person = stack.add_person()
    secret = register_totp(app, person)
    sign_in_as(AGENT)
    desk.look_up(person.login)
    assert desk.send("totp").status_code == 302
    assert "read you the code it shows now" in desk.page()
    with mid_time_step():
        assert desk.check(pyotp.TOTP(secret).now()).status_code == 302
    assert "The caller passed the check" in desk.page()


def test_a_wrong_code_is_attempt_limited(app: Flask, desk: Desk, stack: Stack, mailbox: MailSink,
                                         settings: Any, sign_in_as: Callable[..., Any]) -> None:
    person = stack.add_person()
    sign_in_as(AGENT)
    desk.look_up(person.login)
    desk.send("email-directory")
    code = code_sent_to(mailbox, person.alternate_email)
    wrong = f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"
    answers = [desk.check(wrong).status_code for _ in range(settings.codes.max_attempts)]
    assert answers == [400] * settings.codes.max_attempts and "no longer works" in desk.text
    assert desk.check(code).status_code == 302  # back to sending: the spent code is void
    assert "The caller passed the check" not in desk.page()
    assert desk.post("/reset").status_code == 400 and stack.binds(person, person.password)
    reasons = [e.reason for e in audit_events(app, "helpdesk.check")]
    assert reasons == ["wrong"] * (settings.codes.max_attempts - 1) + ["spent"]


def test_an_administrators_account_is_refused(app: Flask, desk: Desk, stack: Stack, mailbox: MailSink,
                                              sign_in_as: Callable[..., Any]) -> None:
    admin = stack.add_person(groups=(PILOT, ADMINS))
    sign_in_as(AGENT)
    assert desk.look_up(admin.login).status_code == 403
    assert "The help desk cannot handle it" in desk.text and "email-directory" not in desk.text
    assert desk.send("email-directory").status_code == 302  # nobody is being handled
    [refused] = audit_events(app, "helpdesk.lookup")
    assert (refused.outcome, refused.reason, refused.username) == ("refused", "administrator", admin.login)
    assert stack.binds(admin, admin.password)


def test_an_agent_cannot_handle_their_own_account(app: Flask, desk: Desk, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as(AGENT)
    assert desk.look_up(AGENT).status_code == 403 and "This is your own account" in desk.text
    assert [e.reason for e in audit_events(app, "helpdesk.lookup")] == ["own_account"]


def test_unlock_after_a_check_keeps_the_password_and_tells_the_person(
        app: Flask, desk: Desk, stack: Stack, mailbox: MailSink, sign_in_as: Callable[..., Any]) -> None:
    person = stack.add_person()
    stack.lock(person)
    sign_in_as(AGENT)
    desk.verified_by_email(mailbox, person)
    assert "Unlock the account" in desk.page()
    assert desk.post("/unlock").status_code == 200 and "The account is unlocked" in desk.text
    assert stack.binds(person, person.password)
    mails_to(mailbox, person.alternate_email, "The help desk unlocked your account")
    assert [e.outcome for e in audit_events(app, "helpdesk.unlock")] == ["attempted", "success"]


@pytest.mark.parametrize("app, step", [({"lookups_per_hour": 1}, "lookup"), ({"codes_per_hour": 1}, "code"),
                                       ({"resets_per_hour": 1}, "reset")], indirect=["app"])
def test_each_agent_has_hourly_limits(app: Flask, desk: Desk, stack: Stack, mailbox: MailSink,
                                      sign_in_as: Callable[..., Any], step: str) -> None:
    person = stack.add_person()
    sign_in_as(AGENT)
    if step == "lookup":
        assert desk.look_up(person.login).status_code == 302
        assert desk.look_up(person.login).status_code == 429
    elif step == "code":
        desk.look_up(person.login)
        assert desk.send("email-directory").status_code == 302
        assert desk.send("email-directory").status_code == 429
    else:
        desk.verified_by_email(mailbox, person)
        assert desk.post("/reset").status_code == 200
        desk.verified_by_email(mailbox, person, nth_code=2)
        assert desk.post("/reset").status_code == 429
    assert "hourly limit" in desk.text
    assert "rate_limited" in [e.reason for e in audit_events(app, "helpdesk.")]


@pytest.mark.parametrize("app", [{"reset": "link"}], indirect=True)
def test_in_link_mode_the_person_gets_a_one_time_link_into_the_reset_flow(
        app: Flask, desk: Desk, stack: Stack, mailbox: MailSink, sign_in_as: Callable[..., Any]) -> None:
    person = stack.add_person()
    sign_in_as(AGENT)
    desk.verified_by_email(mailbox, person)
    assert desk.post("/reset").status_code == 200 and "Reset link sent" in desk.text
    assert stack.binds(person, person.password)  # nothing written by the desk
    mail = mails_to(mailbox, person.alternate_email, "password reset link")
    [link] = re.findall(r"http://\S+/reset/link/\S+", mail_body(mail))
    path = link.removeprefix(BASE_URL)

    caller = new_browser(app)
    assert caller.get(path).status_code == 200 and "It works once" in caller.text
    assert caller.submit(path, form_page=path).status_code == 303
    assert caller.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)
    again = new_browser(app)
    again.get(path)
    assert again.submit(path, form_page=path).status_code == 409  # single use
    assert [(e.outcome, e.details.get("mode")) for e in audit_events(app, "helpdesk.reset")] == [("success", "link")]
    assert [e.outcome for e in audit_events(app, "reset.password")] == ["attempted", "success"]
    assert [e.username for e in audit_events(app, "reset.link")] == [person.login]
