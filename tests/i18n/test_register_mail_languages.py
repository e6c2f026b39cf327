"""Registering in German: the code and the notice of the change come in German, and German is
what later mail to the person is written in."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devstack.mailsink import MailSink
from portal.store.languages import PersonLanguage
from tests.registration_support import app, code_in, mail_body, portal_app, post, sms_gateway  # noqa: F401 - fixtures

ADDRESS = "carol.zuhause@mail.example"


def test_a_change_of_security_info_in_german_is_mailed_and_remembered_in_german(
        app: Flask, client: FlaskClient, mailbox: MailSink, sign_in_as: Callable[..., Any]) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-AT"
    sign_in_as("carol")
    post(client, "/register/email", {"address": ADDRESS})
    code = mailbox.wait_for(lambda m: m["To"] == ADDRESS and m["Subject"].startswith("Ihr Bestätigungscode"))
    assert "Ihr Bestätigungscode lautet:" in mail_body(code)
    post(client, "/register/email/confirm", {"code": code_in(mail_body(code))})
    notice = mailbox.wait_for(lambda m: m["Subject"] == "Ihre Sicherheitsinformationen wurden geändert")
    assert "die Methode „alternative E-Mail-Adresse“ wurde am " in mail_body(notice)
    with app.extensions["store"].transaction() as db:
        assert list(db.scalars(select(PersonLanguage.language))) == ["de"]
