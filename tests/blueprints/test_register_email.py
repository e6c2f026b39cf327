"""Registering an alternate email: a code goes to the new address, and only typing it back saves it.

Through the real provider (sign-in), slapd (the account and its directory data) and the SMTP sink.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devstack.mailsink import MailSink
from portal.store.audit import AuditEvent
from portal.store.security_info import AuthMethod
from tests.registration_support import app, code_mail, mail_body, portal_app, post, sign_in, sms_gateway  # noqa: F401
from tests.support import REPO_BRANDING

NEW_ADDRESS = "carol.home@mail.example"


def audit_events(app: Flask, event: str | None = None) -> list[AuditEvent]:
    with app.extensions["store"].transaction() as db:
        query = select(AuditEvent).order_by(AuditEvent.id)
        return list(db.scalars(query.where(AuditEvent.event == event) if event else query))


def stored_methods(app: Flask) -> list[AuthMethod]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(AuthMethod)))


def register_email(client: FlaskClient, mailbox: MailSink, address: str) -> Any:
    sent = post(client, "/register/email", {"address": address})
    assert sent.status_code == 302 and sent.headers["Location"] == "/register/email/confirm"
    return post(client, "/register/email/confirm", {"code": code_mail(mailbox, address)})


def test_an_alternate_email_is_saved_only_after_its_code_comes_back(
        app: Flask, client: FlaskClient, mailbox: MailSink, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")

    sent = post(client, "/register/email", {"address": "Carol.Home@MAIL.example"})
    assert sent.status_code == 302 and sent.headers["Location"] == "/register/email/confirm"
    assert stored_methods(app) == []  # nothing is saved before the code comes back

    code = code_mail(mailbox, "Carol.Home@mail.example")
    confirmed = post(client, "/register/email/confirm", {"code": code})

    assert confirmed.status_code == 302
    [method] = stored_methods(app)
    assert (method.kind, method.destination, method.source) == ("email", "Carol.Home@mail.example", "user")
    page = client.get("/register").get_data(as_text=True)
    assert "C•••e@mail.example" in page and "Registered" in page
    added = audit_events(app, "registration.method_added")
    assert [(e.username, e.outcome, e.details) for e in added] == [("carol", "success", {"method": "email"})]


def test_a_wrong_code_saves_nothing_and_says_so(app: Flask, client: FlaskClient, mailbox: MailSink,
                                                sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    post(client, "/register/email", {"address": NEW_ADDRESS})
    code = code_mail(mailbox, NEW_ADDRESS)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    answer = post(client, "/register/email/confirm", {"code": wrong})

    assert answer.status_code == 400
    assert "That code is not right" in answer.get_data(as_text=True)
    assert stored_methods(app) == []
    [failed] = audit_events(app, "code.failed")
    assert (failed.reason, failed.details) == ("wrong", {"channel": "email", "purpose": "register-email"})


@pytest.mark.parametrize("typed", ["not-an-address", "a@b", "two@@example.com", "space in@example.com",
                                   "x@exa mple.com", "ctrl\x07@example.com", ""])
def test_an_unusable_address_is_refused_with_a_message_and_no_mail(
        client: FlaskClient, mailbox: MailSink, sign_in_as: Callable[..., Any], typed: str) -> None:
    sign_in_as("carol")

    answer = post(client, "/register/email", {"address": typed})

    assert answer.status_code == 400
    assert "Enter an email address such as name@example.com." in answer.get_data(as_text=True)
    assert mailbox.messages() == []


def test_changing_the_address_tells_the_account_and_the_old_address_but_not_the_new_one(
        app: Flask, client: FlaskClient, mailbox: MailSink, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    register_email(client, mailbox, NEW_ADDRESS)
    mailbox.wait_for(lambda m: m["Subject"] == "Your security info was changed")
    mailbox.clear()

    register_email(client, mailbox, "carol.new@mail.example")

    notices = [mailbox.wait_for(lambda m, to=to: m["Subject"] == "Your security info was changed"
                                and m["To"] == to) for to in ("carol@example.test", NEW_ADDRESS)]
    assert all("alternate email in your security info was changed" in mail_body(n) for n in notices)
    assert all("If this was not you, contact the help desk now" in mail_body(n) for n in notices)
    # the new address gets only its code, never the "changed" notice
    assert not [m for m in mailbox.messages() if m["To"] == "carol.new@mail.example"
                and m["Subject"] == "Your security info was changed"]
    assert [m.destination for m in stored_methods(app)] == ["carol.new@mail.example"]
    assert [e.details for e in audit_events(app, "registration.method_changed")] == [{"method": "email"}]


def test_removing_the_address_tells_the_removed_address(app: Flask, client: FlaskClient, mailbox: MailSink,
                                                        sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    register_email(client, mailbox, NEW_ADDRESS)
    mailbox.wait_for(lambda m: m["Subject"] == "Your security info was changed")
    mailbox.clear()

    removed = post(client, "/register/email/remove", {"confirmed": "yes"})

    assert removed.status_code == 302
    assert stored_methods(app) == []
    notice = mailbox.wait_for(lambda m: m["To"] == NEW_ADDRESS)
    assert "was removed from your security info" in mail_body(notice)
    assert [e.details for e in audit_events(app, "registration.method_removed")] == [{"method": "email"}]


def test_a_theme_can_rewrite_the_code_mail(portal_app: Callable[..., Flask], mailbox: MailSink,
                                           tmp_path: Path) -> None:
    branding = tmp_path / "branding"
    shutil.copytree(REPO_BRANDING, branding)
    override = branding / "default" / "templates" / "mail"
    override.mkdir(parents=True)
    (override / "code.subject.txt").write_text("Fabrikam sign-in check")
    (override / "code.txt").write_text("Your Fabrikam code: {{ code }} ({{ minutes }} minutes)\n")
    client = portal_app(top=f'branding_dir = "{branding}"').test_client()
    sign_in(client, "carol")

    post(client, "/register/email", {"address": NEW_ADDRESS})

    message = mailbox.wait_for(lambda m: m["To"] == NEW_ADDRESS)
    assert message["Subject"] == "Fabrikam sign-in check"
    assert mail_body(message).startswith("Your Fabrikam code: ") and "(10 minutes)" in mail_body(message)
    assert "verification code is" in message.get_body(("html",)).get_content()  # not overridden: built-in
