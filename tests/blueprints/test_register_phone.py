"""Registering a mobile number: parsed to E.164, limited to allowed countries and to mobile numbers,
confirmed by a code sent as a real HTTP request to the SMS gateway (a recording server on 127.0.0.1).

The numbers of each kind are phonenumbers' own examples, so no test guesses which number is which."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import phonenumbers
import pytest
from flask import Flask
from flask.testing import FlaskClient
from phonenumbers import PhoneNumberType as Kind
from sqlalchemy import select

from portal.adapters.directory import DirectoryUser
from portal.services.proofs.methods import InvalidEntry
from portal.services.proofs.methods.phone import normalize_number
from portal.services.proofs.security_info import directory_destinations
from portal.settings.registration import PhoneSettings
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


def example(region: str, kind: int) -> str:
    number = phonenumbers.example_number_for_type(region, kind)
    assert number is not None, f"phonenumbers has no {kind} example for {region}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


LANDLINE = "That is a landline number"
NOT_TEXTABLE = "Codes cannot be texted to that kind of number"
REFUSED = [("GB", Kind.PREMIUM_RATE, NOT_TEXTABLE), ("US", Kind.PREMIUM_RATE, NOT_TEXTABLE),
           ("FR", Kind.SHARED_COST, NOT_TEXTABLE), ("US", Kind.TOLL_FREE, NOT_TEXTABLE),
           ("GB", Kind.TOLL_FREE, NOT_TEXTABLE), ("GB", Kind.VOIP, NOT_TEXTABLE), ("GB", Kind.PAGER, NOT_TEXTABLE),
           ("GB", Kind.PERSONAL_NUMBER, NOT_TEXTABLE), ("GB", Kind.UAN, NOT_TEXTABLE),
           ("GB", Kind.FIXED_LINE, LANDLINE), ("FR", Kind.FIXED_LINE, LANDLINE)]
# US and Canadian numbers cannot be told apart (FIXED_LINE_OR_MOBILE): they are accepted, and the
# code sent to the number is what proves it receives texts.
ACCEPTED = [("GB", Kind.MOBILE), ("FR", Kind.MOBILE), ("US", Kind.FIXED_LINE_OR_MOBILE),
            ("CA", Kind.FIXED_LINE_OR_MOBILE)]
WITH_FRANCE = PhoneSettings(allowed_countries=["US", "CA", "GB", "FR"], default_country="US")


@pytest.mark.parametrize("region, kind, message", REFUSED)
def test_numbers_that_are_not_mobile_are_refused_for_texts(app: Flask, region: str, kind: int, message: str) -> None:
    number = example(region, kind)
    assert phonenumbers.number_type(phonenumbers.parse(number)) == kind
    with app.test_request_context(), pytest.raises(InvalidEntry, match=message):
        normalize_number(number, WITH_FRANCE)


@pytest.mark.parametrize("region, kind", ACCEPTED)
def test_mobile_numbers_and_those_that_may_be_mobile_are_accepted(app: Flask, region: str, kind: int) -> None:
    number = example(region, kind)
    assert phonenumbers.number_type(phonenumbers.parse(number)) == kind
    with app.test_request_context():
        assert normalize_number(number, WITH_FRANCE) == number


@pytest.mark.parametrize("region, kind, message", [r for r in REFUSED if r[0] != "FR"])
def test_the_registration_page_refuses_a_number_that_is_not_mobile_and_texts_nothing(
        client: FlaskClient, sms_gateway: SmsGatewayServer, sign_in_as: Callable[..., Any], region: str, kind: int,
        message: str) -> None:
    sign_in_as("carol")

    answer = post(client, "/register/phone", {"address": example(region, kind)})

    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    assert sms_gateway.received == []


def test_a_landline_in_the_directory_is_not_offered_for_codes(app: Flask) -> None:
    person = DirectoryUser(dn="uid=x", directory_id="x", login="x", display_name="X",
                           mobile=example("GB", Kind.FIXED_LINE))
    with app.test_request_context():
        assert directory_destinations(person, ["phone"], WITH_FRANCE) == []
        mobile = DirectoryUser(dn="uid=y", directory_id="y", login="y", display_name="Y",
                               mobile=example("GB", Kind.MOBILE))
        assert [d.address for d in directory_destinations(mobile, ["phone"], WITH_FRANCE)] == [mobile.mobile]
