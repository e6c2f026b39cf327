"""Directory writes on record: no reset, unlock or change is sent unless its attempt is committed
first, and a new password ends the person's other sessions; against slapd and Samba AD.

The audit trail is broken for real: a trigger in the portal's own database (SQLite or PostgreSQL)
refuses every insert into audit_events, as a full disk or a revoked grant would.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from devstack.faults import SilencingRelay
from devstack.mailsink import MailSink
from tests.registration_support import SmsGatewayServer, sms_gateway  # noqa: F401
from tests.reset_support import (NEW_PASSWORD, Browser, Person, Stack, app, audit_events, browser,  # noqa: F401
                                 change, mails_to, new_browser, reset_app, sign_in_again, signed_in, stack,
                                 verified_by_email)
from tests.store_support import postgres_url  # noqa: F401 - fixture

NOTHING_CHANGED = "Nothing was changed"
SQLITE_REFUSAL = ["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events {when}"
                  "BEGIN SELECT RAISE(ABORT, 'the audit trail refuses inserts'); END"]
POSTGRES_REFUSAL = ["CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'the audit trail refuses inserts'; END $$",
                    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_audit()"]


@contextmanager
def audit_inserts_fail(app: Flask, *, outcomes_only: bool = False) -> Iterator[None]:
    """Every INSERT into audit_events (or, with `outcomes_only`, every one but the attempts) fails
    inside the database until the block ends."""
    engine = app.extensions["store"].engine
    postgres = engine.dialect.name == "postgresql"
    assert not (postgres and outcomes_only), "outcomes_only is written for SQLite"
    when = "WHEN NEW.outcome != 'attempted' " if outcomes_only else ""
    with engine.begin() as connection:
        for statement in POSTGRES_REFUSAL if postgres else SQLITE_REFUSAL:
            connection.execute(text(statement.format(when=when)))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_audit" + (" ON audit_events" if postgres else "")))
            if postgres:
                connection.execute(text("DROP FUNCTION refuse_audit()"))


def nothing_changed(answer: Any) -> bool:
    body = answer.get_data(as_text=True)
    return answer.status_code == 503 and NOTHING_CHANGED in body and "try again" in body


# -- no write unless its attempt is on record -----------------------------------------------------

def test_a_change_whose_attempt_cannot_be_recorded_changes_nothing(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    with audit_inserts_fail(app):
        assert nothing_changed(change(browser, person.password, login=person.login))
    assert stack.binds(person, person.password) and not stack.binds(person, NEW_PASSWORD)
    assert audit_events(app, "password.change") == []
    assert change(browser, person.password, login=person.login).status_code == 200  # once the store is back
    assert stack.binds(person, NEW_PASSWORD)


@pytest.mark.parametrize("stack", ["slapd"], indirect=True)
def test_on_postgresql_too_a_change_whose_attempt_cannot_be_recorded_changes_nothing(
        reset_app: Any, stack: Stack, postgres_url: str) -> None:  # noqa: F811 - fixture
    app = reset_app({"PORTAL_DATABASE__URL": postgres_url})
    person = stack.add_person()
    with audit_inserts_fail(app):
        assert nothing_changed(change(new_browser(app), person.password, login=person.login))
    assert stack.binds(person, person.password) and not stack.binds(person, NEW_PASSWORD)
    app.extensions["store"].engine.dispose()  # the database is dropped after the test


def test_a_reset_whose_attempt_cannot_be_recorded_changes_nothing_and_may_be_retried(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    verified_by_email(browser, mailbox, person)
    with audit_inserts_fail(app):
        assert nothing_changed(browser.set_password(NEW_PASSWORD))
    assert stack.binds(person, person.password) and not stack.binds(person, NEW_PASSWORD)
    assert browser.set_password(NEW_PASSWORD).status_code == 200  # the flow was not used up
    assert stack.binds(person, NEW_PASSWORD)
    assert [e.outcome for e in audit_events(app, "reset.password")] == ["attempted", "success"]


def test_an_unlock_whose_attempt_cannot_be_recorded_leaves_the_account_locked(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    stack.lock(person)
    verified_by_email(browser, mailbox, person)
    with audit_inserts_fail(app):
        assert nothing_changed(browser.submit("/reset/unlock"))
    assert not stack.binds(person, person.password)  # still locked
    assert browser.submit("/reset/unlock").status_code == 200
    assert stack.binds(person, person.password)


def test_a_change_whose_outcome_cannot_be_recorded_is_still_reported_truly(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    with audit_inserts_fail(app, outcomes_only=True):
        answer = change(browser, person.password, login=person.login)
    assert answer.status_code == 200 and stack.binds(person, NEW_PASSWORD)  # changed, and told so
    assert [e.outcome for e in audit_events(app, "password.change")] == ["attempted"]  # reads as unknown


def test_each_outcome_row_follows_and_names_its_attempt(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    verified_by_email(browser, mailbox, person)
    browser.set_password(NEW_PASSWORD)
    change(new_browser(app), NEW_PASSWORD, "Harbor lantern, quartz 19 meadow", login=person.login)
    for event in ("reset.password", "password.change"):
        attempt, outcome = audit_events(app, event)
        assert (attempt.outcome, outcome.outcome) == ("attempted", "success")
        assert attempt.id < outcome.id and outcome.details["attempt"] == attempt.id
        assert attempt.username == outcome.username == person.login


# -- a new password ends the person's other sessions ----------------------------------------------

def test_a_reset_ends_the_sessions_signed_in_before_it(
        app: Flask, stack: Stack, mailbox: MailSink, slapd: Any) -> None:
    person, other = stack.add_person(), stack.add_person()
    theirs, someone_elses = new_browser(app), new_browser(app)
    signed_in(theirs, stack, person, slapd)
    signed_in(someone_elses, stack, other, slapd)
    assert theirs.signed_in_as() == person.login

    resetting = new_browser(app)  # signed out, as resets are
    verified_by_email(resetting, mailbox, person)
    before = resetting.client.session_cookie
    assert resetting.set_password(NEW_PASSWORD).status_code == 200

    assert theirs.signed_in_as() is None
    assert someone_elses.signed_in_as() == other.login
    assert resetting.client.session_cookie != before  # the browser that reset got a new session


def test_a_change_rotates_its_session_and_ends_the_person_s_others(
        app: Flask, stack: Stack, browser: Browser, slapd: Any) -> None:
    person, other = stack.add_person(), stack.add_person()
    second, someone_elses = new_browser(app), new_browser(app)
    signed_in(browser, stack, person, slapd)
    sign_in_again(second, person)
    signed_in(someone_elses, stack, other, slapd)
    before = browser.client.session_cookie
    assert before is not None

    assert change(browser, person.password).status_code == 200

    assert browser.client.session_cookie not in (None, before)
    assert browser.signed_in_as() == person.login  # the changing browser stays signed in, rotated
    assert second.signed_in_as() is None
    assert someone_elses.signed_in_as() == other.login
    replay = new_browser(app)
    replay.client.use_session_cookie(before)
    assert replay.signed_in_as() is None


@pytest.mark.parametrize("stack", ["samba"], indirect=True)
def test_a_session_signed_in_while_the_directory_was_down_is_linked_later_and_ended(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink, slapd: Any) -> None:
    """The provider checks passwords against slapd, so it signs people in while Samba is down."""
    person = stack.add_person()
    with stack.stopped():
        signed_in(browser, stack, person, slapd)  # the portal cannot tell whose session this is yet
    assert browser.get("/register").status_code == 200  # the first page that loads the account links it
    resetting = new_browser(app)
    verified_by_email(resetting, mailbox, person)
    assert resetting.set_password(NEW_PASSWORD).status_code == 200
    assert browser.signed_in_as() is None


# -- an unknown outcome: the person is told their password may have changed ----------------------

@pytest.mark.parametrize("stack", ["slapd"], indirect=True)
def test_a_change_without_an_answer_warns_the_person_and_ends_their_sessions(
        reset_app: Any, stack: Stack, slapd: Any, mailbox: MailSink) -> None:
    """The relay passes the change to slapd but drops its answer (see devstack/faults.py)."""
    with SilencingRelay(("127.0.0.1", slapd.port)) as relay:
        requests_per_change = []
        for silent in (False, True):  # a fresh portal each time: the same connections to open
            app = reset_app({"PORTAL_DIRECTORY__URL": f"ldap://127.0.0.1:{relay.port}",
                             "PORTAL_DIRECTORY__TIMEOUT_SECONDS": "1"})
            person, browser, elsewhere = stack.add_person(), new_browser(app), new_browser(app)
            signed_in(elsewhere, stack, person, slapd)
            browser.get("/change/")
            before = relay.requests
            if silent:  # a normal change's last request closes the person's connection: the one before
                relay.silence_from_request(before + requests_per_change[0] - 1)  # is the change itself
            answer = change(browser, person.password, login=person.login)
            requests_per_change.append(relay.requests - before)

    assert answer.status_code == 502 and "could not confirm" in answer.get_data(as_text=True)
    assert stack.binds(person, NEW_PASSWORD)  # it did happen: "unknown" was the honest answer
    notice = mails_to(mailbox, person.alternate_email, "Your password may have changed")
    assert "did not confirm it" in notice.get_body(("plain",)).get_content()
    assert elsewhere.signed_in_as() is None
    assert [e.outcome for e in audit_events(app, "password.change")] == ["attempted", "success",
                                                                         "attempted", "unknown"]
