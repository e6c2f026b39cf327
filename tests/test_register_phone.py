"""Registering a mobile number: parsed to E.164, limited to allowed countries, confirmed by a code
sent as a real HTTP request to the SMS gateway (a recording server on 127.0.0.1)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.store.security_info import AuthMethod
from tests.registration_support import SMS_TOKEN, SmsGatewayServer, app, code_in, portal_app, post, sign_in, sms_gateway  # noqa: F401


def test_a_mobile_number_is_saved_in_e164_after_the_texted_code_comes_back(
        app: Flask, client: FlaskClient, sms_gateway: SmsGatewayServer, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")

    sent = post(client, "/register/phone", {"address": "(201) 555-0142"})

    assert sent.headers["Location"] == "/register/phone/confirm"
    [request] = sms_gateway.wait_for(1)
    assert (request.method, request.path) == ("POST", "/sms")
    assert request.headers["Authorization"] == SMS_TOKEN
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert (body["to"], body["sender"]) == ("+12015550142", "Portal")
    assert "verification code" in body["text"]

    confirmed = post(client, "/register/phone/confirm", {"code": code_in(body["text"])})

    assert confirmed.status_code == 302
    with app.extensions["store"].transaction() as db:
        assert db.execute(select(AuthMethod.kind, AuthMethod.destination)).all() == [("phone", "+12015550142")]
    assert "+1 ••• ••• 0142" in client.get("/register").get_data(as_text=True)


@pytest.mark.parametrize("typed, message", [
    ("12345", "That is not a valid phone number"),
    ("+1 555 555 0101", "That is not a valid phone number"),
    ("+49 151 23456789", "Numbers from that country cannot be used. Allowed: US, CA, GB."),
    ("call me maybe", "Enter a mobile phone number"),
    ("", "Enter a mobile phone number"),
])
def test_a_number_that_is_invalid_or_from_another_country_is_refused(
        client: FlaskClient, sms_gateway: SmsGatewayServer, sign_in_as: Callable[..., Any], typed: str,
        message: str) -> None:
    sign_in_as("carol")

    answer = post(client, "/register/phone", {"address": typed})

    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    assert sms_gateway.received == []


def test_the_phone_method_is_not_offered_without_an_sms_gateway(portal_app: Callable[..., Flask]) -> None:
    no_sms = portal_app(sms_provider="none").test_client()
    sign_in(no_sms, "carol")

    assert "Mobile phone" not in no_sms.get("/register").get_data(as_text=True)
    assert no_sms.get("/register/phone").status_code == 404
