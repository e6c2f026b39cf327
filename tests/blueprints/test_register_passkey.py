"""Registering a passkey on /register: after the recent proof every change needs, for a challenge
this session was given and that works once, made for this portal's origin; the credential is
saved sealed, with its sign counter, and the person's login is not what their device is told."""
from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devstack.oidc_provider import OidcProvider
from portal.store.security_info import AuthMethod
from tests.passkey_support import SoftPasskey
from tests.registration_support import DIRECTORY_ENVIRON, post, registration_toml, sign_in_long_ago, sms_gateway  # noqa: F401
from tests.reset_support import audit_events
from tests.support import BASE_URL

OPTIONS = re.compile(r'data-options="([^"]+)"')
WITH_PASSKEYS = {**DIRECTORY_ENVIRON, "PORTAL_REGISTRATION__REQUIRE_REGISTRATION": "false",
                 "PORTAL_REGISTRATION__METHODS": '["email", "totp", "passkey"]'}


@pytest.fixture
def app(make_app: Callable[..., Flask], oidc_provider: OidcProvider, sms_gateway: Any) -> Flask:  # noqa: F811
    return make_app(registration_toml(sms_gateway.url), environ=WITH_PASSKEYS)


def options_of(client: FlaskClient) -> str:
    page = client.get("/register/passkey")
    assert page.status_code == 200
    found = OPTIONS.search(page.get_data(as_text=True))
    assert found
    return html.unescape(found.group(1))


def passkeys(app: Flask) -> list[AuthMethod]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(AuthMethod).where(AuthMethod.kind == "passkey")))


def test_a_passkey_is_saved_sealed_for_the_challenge_this_session_was_given(
        app: Flask, client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    options = options_of(client)
    asked = json.loads(options)
    assert asked["rp"]["id"] == "127.0.0.1"   # the host name of the base URL (tests: 127.0.0.1)
    assert asked["authenticatorSelection"]["userVerification"] == "required"
    assert asked["authenticatorSelection"]["residentKey"] == "required"   # reset asks with no credential list
    assert "carol" not in json.dumps(asked["user"]["id"])   # a keyed hash, not the login
    device = SoftPasskey(BASE_URL)

    saved = post(client, "/register/passkey", {"credential": device.create(options)})

    assert saved.status_code == 302
    [method] = passkeys(app)
    assert method.sealed_secret and method.last_used_step == 0
    assert json.loads(device.create(options))["id"] not in method.sealed_secret   # sealed
    assert "Your passkey is saved." in client.get("/register").get_data(as_text=True)


def test_a_challenge_works_once(app: Flask, client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    answer = SoftPasskey(BASE_URL).create(options_of(client))
    assert post(client, "/register/passkey", {"credential": answer}).status_code == 302

    again = post(client, "/register/passkey", {"credential": answer})

    assert again.status_code == 400
    assert "The passkey was not created" in again.get_data(as_text=True)
    assert [e.reason for e in audit_events(app, "passkey.failed")] == ["no_challenge"]


def test_a_passkey_made_for_another_site_is_refused(app: Flask, client: FlaskClient,
                                                     sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    look_alike = SoftPasskey("https://portal.example.evil").create(options_of(client))

    refused = post(client, "/register/passkey", {"credential": look_alike})

    assert refused.status_code == 400 and passkeys(app) == []
    assert [e.reason for e in audit_events(app, "passkey.failed")] == ["invalid"]


def test_nonsense_is_a_clear_refusal_not_an_error(app: Flask, client: FlaskClient,
                                                   sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    options_of(client)
    for nonsense in ("", "{", '{"id": 1}', "x" * 20_000):
        assert post(client, "/register/passkey", {"credential": nonsense}).status_code == 400
        options_of(client)
    assert passkeys(app) == []


def test_a_passkey_needs_the_recent_proof_every_change_needs(client: FlaskClient,
                                                             sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    sign_in_long_ago(client)

    page = client.get("/register/passkey")

    assert page.status_code == 302 and "/register/verify" in page.headers["Location"]


def test_a_registered_passkey_is_a_proof_before_the_next_change(
        app: Flask, client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    device = SoftPasskey(BASE_URL)
    assert post(client, "/register/passkey", {"credential": device.create(options_of(client))}).status_code == 302
    sign_in_long_ago(client)

    def step_up(origin: str) -> Any:
        page = client.get("/register/verify?next=/register/passkey")
        found = OPTIONS.search(page.get_data(as_text=True))
        assert found
        return post(client, "/register/verify/passkey", {"next": "/register/passkey", "credential": device.get(
            html.unescape(found.group(1)), origin=origin)})

    look_alike = step_up("https://portal.example.evil")
    assert look_alike.status_code == 400 and "Your passkey could not be checked" in look_alike.get_data(as_text=True)
    stepped_up = step_up(BASE_URL)
    assert stepped_up.status_code == 302 and stepped_up.headers["Location"].endswith("/register/passkey")
    assert client.get("/register/passkey").status_code == 200
    assert [e.reason for e in audit_events(app, "passkey.failed")] == ["invalid"]
