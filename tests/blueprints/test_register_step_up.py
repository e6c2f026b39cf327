"""Changing security info needs a recent sign-in: either the provider signs the person in again
(max_age=0, checked against auth_time) or a code goes to a method already registered."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from devstack import people
from devstack.mailsink import MailSink
from devstack.oidc_provider import sign_in as provider_sign_in
from portal import clock
from tests.registration_support import app, code_mail, portal_app, post, sign_in_long_ago, sms_gateway  # noqa: F401

ALICE_PRIVATE = people.person("alice").other_mail


def reauthenticate(client: FlaskClient, username: str, authorize: str) -> Any:
    """Sign in at the provider's page `authorize` leads to; the portal's callback response."""
    with requests.Session() as browser:
        callback = provider_sign_in(browser, authorize, username, people.person(username).password)
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


@pytest.mark.parametrize("path", ["/register/email", "/register/phone", "/register/totp", "/register/questions"])
def test_an_old_sign_in_must_be_renewed_before_a_change(client: FlaskClient, sign_in_as: Callable[..., Any],
                                                        path: str) -> None:
    sign_in_as("carol")
    sign_in_long_ago(client, minutes=11)

    page = client.get(path)

    assert page.status_code == 302
    assert page.headers["Location"] == f"/register/verify?next={path}"
    assert post(client, "/register/email", {"address": "x@mail.example"}).headers["Location"].startswith(
        "/register/verify")


def test_signing_in_again_with_max_age_zero_unlocks_changes(client: FlaskClient,
                                                             sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    sign_in_long_ago(client, minutes=60)

    start = client.get("/register/reauth?next=/register/email")
    authorize = start.headers["Location"]
    assert parse_qs(urlsplit(authorize).query)["max_age"] == ["0"]
    back = reauthenticate(client, "carol", authorize)

    assert back.status_code == 302 and back.headers["Location"] == "/register/email"
    assert client.get("/register/email").status_code == 200


def test_a_provider_that_reuses_an_older_sign_in_is_refused(client: FlaskClient,
                                                             sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    sign_in_long_ago(client, minutes=60)
    # asked "sign in again" five minutes from now, the provider answers with a sign-in from before
    with clock.travel(timedelta(minutes=5)):
        authorize = client.get("/register/reauth").headers["Location"]

    refused = reauthenticate(client, "carol", authorize)

    assert refused.status_code == 400
    assert "Sign-in could not be completed" in refused.get_data(as_text=True)


def test_a_code_to_a_method_from_the_directory_unlocks_changes(
        app: Flask, client: FlaskClient, mailbox: MailSink, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("alice")
    sign_in_long_ago(client, minutes=60)
    verify = client.get("/register/verify?next=/register/phone").get_data(as_text=True)
    assert "Send a code to a•••e@mail.example" in verify and "+1 ••• ••• 0101" in verify

    sent = post(client, "/register/verify/send", {"destination": "email-directory", "next": "/register/phone"})
    assert sent.headers["Location"] == "/register/verify/code"
    done = post(client, "/register/verify/code", {"code": code_mail(mailbox, ALICE_PRIVATE)})

    assert done.status_code == 302 and done.headers["Location"] == "/register/phone"
    assert client.get("/register/phone").status_code == 200


def test_a_code_is_only_sent_to_a_destination_the_person_has(client: FlaskClient, mailbox: MailSink,
                                                             sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")  # carol has nothing registered and nothing in the directory
    sign_in_long_ago(client, minutes=60)

    for chosen in ("email-directory", "email-user", "attacker@mail.example"):
        assert post(client, "/register/verify/send", {"destination": chosen}).status_code == 400
    assert mailbox.messages() == []


def test_the_step_up_only_leads_back_into_the_registration_pages(
        client: FlaskClient, mailbox: MailSink, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("alice")
    sign_in_long_ago(client, minutes=60)
    post(client, "/register/verify/send", {"destination": "email-directory", "next": "https://evil.example/"})

    done = post(client, "/register/verify/code", {"code": code_mail(mailbox, ALICE_PRIVATE)})

    assert done.headers["Location"] == "/register"
