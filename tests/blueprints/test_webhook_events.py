"""Webhooks are emitted by the real flows, at the moment the audit trail records the same event,
and reach a real receiver that verifies their signature (the in-process outbox worker sends them):
a reset, an unlock, a change and a pause on slapd and Samba AD; a security-info change; and the
registration deadline, reported once per person."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select

from devstack.mailsink import MailSink
from portal import clock
from portal.store.outbox import OutboxMessage
from tests.registration_support import REQUIRED, enrol, portal_app, sign_in, sms_gateway  # noqa: F401
from tests.reset_support import (NEW_PASSWORD, Stack, audit_events, change, new_browser, reset_app,  # noqa: F401
                                 stack, verified_by_email)
from tests.webhook_support import Received, WebhookReceiver, receiver  # noqa: F401 - fixture


def queued(app: Flask) -> list[str]:
    """The webhook events put in the outbox so far (delivered or not)."""
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(OutboxMessage.purpose).where(OutboxMessage.channel == "webhook")
                               .order_by(OutboxMessage.id)))


def only_event(receiver: WebhookReceiver) -> Received:
    [got] = receiver.wait_for(1)
    assert receiver.refused == []
    return got


def test_a_reset_sends_password_reset(reset_app: Callable[..., Flask], stack: Stack, mailbox: MailSink,
                                      receiver: WebhookReceiver) -> None:
    app = reset_app(tables=receiver.toml())
    person = stack.add_person()
    browser = new_browser(app)
    verified_by_email(browser, mailbox, person)

    assert browser.set_password(NEW_PASSWORD).status_code == 200

    got = only_event(receiver)
    assert got.event["type"] == "password.reset" and got.event["data"]["user"] == person.login
    assert NEW_PASSWORD not in got.body
    assert [e.outcome for e in audit_events(app, "reset.password")] == ["attempted", "success"]


def test_an_unlock_sends_account_unlocked(reset_app: Callable[..., Flask], stack: Stack, mailbox: MailSink,
                                          receiver: WebhookReceiver) -> None:
    app = reset_app(tables=receiver.toml())
    person = stack.add_person()
    stack.lock(person)
    browser = new_browser(app)
    verified_by_email(browser, mailbox, person)

    assert browser.submit("/reset/unlock").status_code == 200

    assert only_event(receiver).event["type"] == "account.unlocked"


def test_a_change_sends_password_changed_and_a_wrong_password_sends_nothing(
        reset_app: Callable[..., Flask], stack: Stack, receiver: WebhookReceiver) -> None:
    app = reset_app(tables=receiver.toml())
    person = stack.add_person()
    assert change(new_browser(app), "not my password", login=person.login).status_code == 400

    assert change(new_browser(app), person.password, login=person.login).status_code == 200

    got = only_event(receiver)
    assert got.event["type"] == "password.changed" and got.event["data"]["user"] == person.login
    assert queued(app) == ["password.changed"]  # the wrong password sent nothing
    assert person.password not in got.body and NEW_PASSWORD not in got.body


def test_a_paused_reset_sends_reset_paused(reset_app: Callable[..., Flask], stack: Stack,
                                           receiver: WebhookReceiver) -> None:
    app = reset_app({"PORTAL_RESET__MAX_FAILED_VERIFICATIONS": "2"}, tables=receiver.toml())
    person = stack.add_person()
    browser = new_browser(app)
    browser.identify(person.login)
    browser.choose("email")
    for _ in range(2):
        answer = browser.enter_code("000000")

    assert answer.status_code == 429
    got = only_event(receiver)
    assert got.event["type"] == "reset.paused" and got.event["data"]["until"].endswith("Z")
    assert "000000" not in got.body


def test_a_security_info_change_sends_registration_changed(portal_app: Callable[..., Any],
                                                           receiver: WebhookReceiver) -> None:
    app = portal_app(top=receiver.toml())
    client = app.test_client()
    sign_in(client, "carol")

    secret = enrol(client)

    got = only_event(receiver)
    assert got.event["type"] == "registration.changed"
    assert {**got.event["data"], "user_id": "?"} == {"user": "carol", "user_id": "?", "method": "totp",
                                                     "action": "added"}
    assert secret not in got.body


def test_the_deadline_is_reported_once_per_person(portal_app: Callable[..., Any], receiver: WebhookReceiver) -> None:
    today = clock.utcnow().date().isoformat()
    app = portal_app(registration=f'required_from = "{today}"', top=receiver.toml())
    for _ in range(2):  # carol (no methods) signs in twice in two browsers; both are interrupted
        assert sign_in(app.test_client(), "carol").headers["Location"] == REQUIRED

    got = only_event(receiver)
    assert got.event["type"] == "enforcement.deadline_passed"
    assert got.event["data"]["user"] == "carol" and got.event["data"]["deadline"] == today
    assert queued(app) == ["enforcement.deadline_passed"]  # and no second one


def test_before_the_deadline_nothing_is_reported(portal_app: Callable[..., Any], receiver: WebhookReceiver) -> None:
    later = clock.utcnow().date().replace(year=clock.utcnow().year + 1).isoformat()
    app = portal_app(registration=f'required_from = "{later}"', top=receiver.toml())
    assert sign_in(app.test_client(), "carol").headers["Location"] == REQUIRED
    assert queued(app) == []
