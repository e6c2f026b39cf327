"""The forgotten-password reset end to end, against real slapd and Samba AD, real mail and SMS."""
from __future__ import annotations

import socket
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask

from devstack.faults import SilencingRelay
from devstack.mailsink import MailSink
from portal import clock
from portal.store.outbox import OutboxMessage
from tests.registration_support import SmsGatewayServer, mid_time_step, sms_gateway  # noqa: F401
from tests.reset_support import (ADMINS, ANSWERS, HELPDESK_NOTICE, NEW_PASSWORD, PILOT, Browser, Stack,  # noqa: F401
                                 app, audit_events, browser, code_sent_to, code_texted_to, mails_to,
                                 new_browser, register_questions, register_totp, reset_app, stack,
                                 verified_by_email)
from tests.services.passwords.breached_support import ONCE as BREACHED_ONCE
from tests.services.passwords.breached_support import breached_toml, pwned_file  # noqa: F401

SECOND_PASSWORD = "Quartz tundra, violet 77 jigsaw"


def test_full_reset_by_email_code(app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()

    assert browser.identify(person.login).status_code == 303
    assert browser.get("/reset/verify").status_code == 200
    assert browser.choose("email").headers["Location"].endswith("/reset/code")
    answer = browser.enter_code(code_sent_to(mailbox, person.alternate_email))
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/reset/password")
    browser.get("/reset/password")
    assert "Not a common password" in browser.text  # the rules, before typing
    done = browser.set_password(NEW_PASSWORD)

    assert done.status_code == 200 and "Your password was changed" in browser.text
    assert stack.binds(person, NEW_PASSWORD) and not stack.binds(person, person.password)
    notice = mails_to(mailbox, person.alternate_email, "Your password was reset")
    assert "If this was not you" in notice.get_body(("plain",)).get_content()
    with browser.client.session_transaction() as session:
        assert "user" not in session  # no automatic sign-in after a reset
    assert [e.outcome for e in audit_events(app, "reset.password")] == ["attempted", "success"]


def test_full_reset_by_sms_code(app: Flask, stack: Stack, browser: Browser, sms_gateway: SmsGatewayServer) -> None:
    person = stack.add_person()
    browser.identify(person.login)
    browser.choose("phone")
    browser.enter_code(code_texted_to(sms_gateway, person.mobile))
    browser.set_password(NEW_PASSWORD)
    assert "Your password was changed" in browser.text
    assert stack.binds(person, NEW_PASSWORD)


def test_full_reset_by_authenticator_app(app: Flask, stack: Stack, browser: Browser) -> None:
    person = stack.add_person()
    secret = register_totp(app, person)
    browser.identify(f"{person.login}@example.test")  # the work email names the account too
    browser.choose("totp")
    with mid_time_step():
        assert browser.enter_code(pyotp.TOTP(secret).at(clock.timestamp())).status_code == 303
    browser.set_password(NEW_PASSWORD)
    assert stack.binds(person, NEW_PASSWORD)


def test_questions_plus_another_method_when_two_are_required(
        reset_app: Any, stack: Stack, mailbox: MailSink) -> None:
    app = reset_app({"PORTAL_REGISTRATION__METHODS_REQUIRED": "2"})
    browser = new_browser(app)
    person = stack.add_person()
    register_questions(app, person)

    browser.identify(person.login)
    browser.choose("questions")
    assert browser.answer(ANSWERS).headers["Location"].endswith("/reset/verify")
    browser.get("/reset/verify")
    assert "one more method" in browser.text and "Security questions" not in browser.text
    assert "Alternate email (r" in browser.text  # the remaining methods, masked, after one passed
    assert browser.get("/reset/password").status_code == 409  # not yet
    browser.choose("email")
    browser.enter_code(code_sent_to(mailbox, person.alternate_email))
    assert browser.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)


def test_administrators_need_two_methods_and_never_questions(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink, sms_gateway: SmsGatewayServer) -> None:
    admin = stack.add_person(groups=(PILOT, ADMINS))
    register_questions(app, admin)

    browser.identify(admin.login)
    browser.choose("questions")  # offered to everyone before anything is proven ...
    assert browser.answer(ANSWERS).status_code == 400  # ... but never passes for an administrator
    browser.choose("email")
    assert browser.enter_code(code_sent_to(mailbox, admin.alternate_email)).headers["Location"].endswith("/verify")
    browser.get("/reset/verify")
    assert "Mobile phone" in browser.text and "Security questions" not in browser.text
    browser.choose("phone")
    browser.enter_code(code_texted_to(sms_gateway, admin.mobile))
    assert browser.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(admin, NEW_PASSWORD)
    told = mails_to(mailbox, HELPDESK_NOTICE, "administrator's password was reset")
    assert admin.login in told["Subject"]


def test_unlock_my_account_keeps_the_password(app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    stack.lock(person)
    assert not stack.binds(person, person.password)
    verified_by_email(browser, mailbox, person)
    browser.get("/reset/password")
    assert "Unlock my account" in browser.text

    assert browser.submit("/reset/unlock").status_code == 200
    assert "Your account is unlocked" in browser.text
    assert stack.binds(person, person.password)
    assert [e.outcome for e in audit_events(app, "reset.unlock")] == ["attempted", "success"]


@pytest.mark.parametrize("password, says", [
    ("P@ssw0rd12345", "one of the most common passwords"),
    ("Contoso rocks 2026!", "name or products"),
    ("Test User and more words", "your name or user name"),
    ("qwertyuiopasdfgh", "too easy to guess"),
])
def test_each_rule_refuses_and_the_same_flow_tries_again(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink, password: str, says: str) -> None:
    person = stack.add_person()
    verified_by_email(browser, mailbox, person)

    assert browser.set_password(password).status_code == 400 and says in browser.text
    assert browser.set_password(NEW_PASSWORD, again="something else").status_code == 400
    assert stack.binds(person, person.password)  # nothing reached the directory
    assert browser.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)


def test_a_password_from_a_breach_is_refused_and_the_same_flow_tries_again(
        reset_app: Any, stack: Stack, mailbox: MailSink, pwned_file: tuple[Path, list[bytes]]) -> None:
    app = reset_app(tables=breached_toml(file=str(pwned_file[0])))
    person = stack.add_person()
    browser = new_browser(app)
    verified_by_email(browser, mailbox, person)
    assert "Not a password known from data breaches" in browser.get("/reset/password").get_data(as_text=True)
    assert browser.set_password(BREACHED_ONCE).status_code == 400
    assert "This password has appeared in a data breach" in browser.text
    assert stack.binds(person, person.password)  # nothing reached the directory
    assert browser.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)


def test_the_directory_s_own_policy_error_is_shown_and_the_flow_goes_on(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    verified_by_email(browser, mailbox, person)
    if stack.name == "slapd":  # ppolicy holds the portal's account to the history
        refused, says = person.password, "You used this password recently"
    else:  # AD complexity: only lower-case letters and spaces
        refused, says = "marble kettle orbit fennel", "too simple"
    assert browser.set_password(refused).status_code == 400
    assert says in browser.text
    assert browser.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)


def test_steps_cannot_be_skipped(app: Flask, stack: Stack, browser: Browser) -> None:
    person = stack.add_person()
    assert browser.get("/reset/verify").status_code == 409  # nothing started in this browser
    browser.identify(person.login)
    assert browser.get("/reset/password").status_code == 409
    assert browser.set_password(NEW_PASSWORD).status_code == 409
    assert browser.submit("/reset/unlock").status_code == 409
    assert browser.enter_code("123456").status_code == 409  # no method chosen yet
    assert browser.get("/reset/questions").status_code == 409
    assert stack.binds(person, person.password)
    refused = {(e.reason, e.username) for e in audit_events(app, "reset.step_refused")}
    assert refused == {("no_flow", None), ("wrong_step", person.login)}   # the flow's account, once known


def test_a_finished_flow_cannot_be_replayed(app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    verified_by_email(browser, mailbox, person)
    cookie = browser.client.session_cookie
    browser.set_password(NEW_PASSWORD)

    assert browser.set_password(SECOND_PASSWORD).status_code == 409
    assert "not available any more" in browser.text
    replay = new_browser(app)
    replay.client.use_session_cookie(cookie)
    assert replay.set_password(SECOND_PASSWORD).status_code == 409
    assert stack.binds(person, NEW_PASSWORD)


def test_an_abandoned_flow_cannot_be_resumed(app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    verified_by_email(browser, mailbox, person)
    assert browser.submit("/reset/cancel").status_code == 303
    assert browser.set_password(NEW_PASSWORD).status_code == 409
    assert stack.binds(person, person.password)


def test_an_expired_flow_ends(app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    verified_by_email(browser, mailbox, person)
    with clock.travel(timedelta(minutes=16)):
        assert browser.set_password(NEW_PASSWORD).status_code == 409
        assert "took too long" in browser.text
    assert stack.binds(person, person.password)


def test_a_code_sent_for_one_person_does_not_verify_another(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    victim, attacker = stack.add_person(), stack.add_person()
    other = new_browser(app)
    other.identify(attacker.login)
    other.choose("email")
    attackers_code = code_sent_to(mailbox, attacker.alternate_email)

    browser.identify(victim.login)
    browser.choose("email")
    assert browser.enter_code(attackers_code).status_code == 400
    assert browser.get("/reset/password").status_code == 409
    assert other.enter_code(attackers_code).status_code == 303  # it still works where it belongs


def test_parallel_resets_of_one_account_exactly_one_wins(app: Flask, stack: Stack, mailbox: MailSink) -> None:
    person = stack.add_person()
    browsers = [new_browser(app), new_browser(app)]
    for nth, each in enumerate(browsers, start=1):
        assert verified_by_email(each, mailbox, person, nth).headers["Location"].endswith("/reset/password")
    tokens = [each.client.csrf_token("/reset/password") for each in browsers]
    start = threading.Barrier(2)
    answers: dict[int, Any] = {}

    def submit(index: int, password: str) -> None:
        start.wait()
        answers[index] = browsers[index].client.post("/reset/password", data={
            "csrf_token": tokens[index], "new_password": password, "new_password_again": password})

    threads = [threading.Thread(target=submit, args=(i, p)) for i, p in enumerate((NEW_PASSWORD, SECOND_PASSWORD))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    codes = sorted(answer.status_code for answer in answers.values())
    assert codes == [200, 409]
    winner = NEW_PASSWORD if answers[0].status_code == 200 else SECOND_PASSWORD
    loser = SECOND_PASSWORD if winner == NEW_PASSWORD else NEW_PASSWORD
    assert stack.binds(person, winner) and not stack.binds(person, loser)
    assert browsers[0 if winner == SECOND_PASSWORD else 1].set_password(loser).status_code == 409


def test_a_directory_stopped_during_the_write_changes_nothing_and_the_flow_retries(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    verified_by_email(browser, mailbox, person)
    browser.get("/reset/password")  # the form is on screen; then the directory goes down
    with stack.stopped():
        assert browser.client.post("/reset/password", data={
            "csrf_token": browser.client.csrf_token("/reset/"), "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD}).status_code == 503
    assert stack.binds(person, person.password)
    assert browser.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)
    assert [(e.outcome, e.reason) for e in audit_events(app, "reset.unavailable")] == [("failure", "unavailable")]
    assert [e.outcome for e in audit_events(app, "reset.password")] == ["attempted", "success"]


def test_a_mail_server_that_is_down_delays_the_notice_but_not_the_change(
        reset_app: Any, stack: Stack, tmp_path: Path) -> None:
    port = free_port()  # the mail server is down: nothing listens on its port yet
    app = reset_app({"PORTAL_MAIL__PORT": str(port)})
    browser, person = new_browser(app), stack.add_person()
    secret = register_totp(app, person)
    browser.identify(person.login)
    browser.choose("totp")
    with mid_time_step():
        browser.enter_code(pyotp.TOTP(secret).at(clock.timestamp()))

    assert browser.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)
    outbox = app.extensions["outbox"]
    outbox.deliver_due()
    with app.extensions["store"].transaction() as db:
        # to the work mailbox and the alternate address
        assert db.query(OutboxMessage).filter_by(purpose="notification", status="pending").count() == 2
    with MailSink(port, tmp_path / "mail") as late_server, clock.travel(timedelta(hours=2)):
        outbox.deliver_due()
        mails_to(late_server, person.alternate_email, "Your password was reset")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("stack", ["slapd"], indirect=True)
def test_a_write_without_an_answer_is_reported_and_audited_as_unknown(
        reset_app: Any, stack: Stack, slapd: Any, mailbox: MailSink) -> None:
    """The relay passes the write to slapd but drops its answer: the portal must not claim success."""
    with SilencingRelay(("127.0.0.1", slapd.port)) as relay:
        app = reset_app({"PORTAL_DIRECTORY__URL": f"ldap://127.0.0.1:{relay.port}",
                         "PORTAL_DIRECTORY__TIMEOUT_SECONDS": "1"})
        requests_per_write = []
        for silent in (False, True):
            person, browser = stack.add_person(), new_browser(app)
            verified_by_email(browser, mailbox, person)
            token = browser.client.csrf_token("/reset/password")
            before = relay.requests
            if silent:  # silent from the request that a normal write needed last: the write itself
                relay.silence_from_request(before + requests_per_write[0])
            answer = browser.client.post("/reset/password", data={
                "csrf_token": token, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
            requests_per_write.append(relay.requests - before)

    assert answer.status_code == 502 and "could not confirm" in answer.get_data(as_text=True)
    assert [e.outcome for e in audit_events(app, "reset.password")] == ["attempted", "success",
                                                                    "attempted", "unknown"]
    assert stack.binds(person, NEW_PASSWORD)  # it did happen: "unknown" was the honest answer
    assert browser.set_password(SECOND_PASSWORD).status_code == 409  # and the flow is over
    notice = mails_to(mailbox, person.alternate_email, "Your password may have changed")
    assert "If this was not you" in notice.get_body(("plain",)).get_content()
