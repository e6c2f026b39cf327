"""Authenticator apps: enrolled by a QR code drawn on the server, confirmed with a code, the secret
encrypted at rest, and each code accepted once, within one time step either side."""
from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import clock
from portal.store.models import WebSession
from portal.store.security_info import AuthMethod
from tests.registration_support import (SECRET, app, code_at, enrol, enrol_page, mid_time_step, portal_app,  # noqa: F401
                                         post, sms_gateway)

QR = re.compile(r'<img class="qr-code" src="data:image/svg\+xml[^"]*"')


def test_enrolment_shows_a_qr_code_made_here_and_saves_the_secret_encrypted(
        app: Flask, client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    with mid_time_step():
        page, secret = enrol_page(client)
        assert QR.search(page)  # an SVG data: URI drawn here: the secret never goes to a QR-code service
        assert len(base64.b32decode(secret)) >= 20  # 160 bits

        saved = post(client, "/register/totp", {"code": code_at(secret, 0)})

    assert saved.status_code == 302
    with app.extensions["store"].transaction() as db:
        [method] = db.scalars(select(AuthMethod)).all()
        sessions = " ".join(str(row.data) for row in db.scalars(select(WebSession)))
    assert method.kind == "totp" and method.sealed_secret
    assert secret not in method.sealed_secret and secret not in sessions  # encrypted at rest
    assert "Authenticator app" in client.get("/register").get_data(as_text=True)


def test_a_wrong_code_keeps_the_same_secret_and_saves_nothing(
        app: Flask, client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    with mid_time_step():
        _page, secret = enrol_page(client)
        wrong = post(client, "/register/totp", {"code": code_at(secret, 5)})
        retried = post(client, "/register/totp", {"code": code_at(secret, 0)})

    assert wrong.status_code == 400
    assert "That code is not right" in wrong.get_data(as_text=True)
    shown_again = SECRET.search(wrong.get_data(as_text=True))
    assert shown_again and shown_again.group(1).replace(" ", "") == secret  # the one already scanned
    assert retried.status_code == 302


def test_the_key_stays_the_same_across_visits_until_it_is_cancelled(client: FlaskClient,
                                                                    sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")

    _first, one = enrol_page(client)
    _reloaded, again = enrol_page(client)  # a reload, or back from the app: the key just scanned
    cancelled = post(client, "/register/totp/cancel")
    _after, new = enrol_page(client)

    assert one == again
    assert cancelled.status_code == 303 and cancelled.headers["Location"].endswith("/register")
    assert new != one
    with mid_time_step():
        assert post(client, "/register/totp", {"code": code_at(one, 0)}).status_code == 400  # discarded
        assert post(client, "/register/totp", {"code": code_at(new, 0)}).status_code == 302


def test_a_confirmed_key_is_not_shown_again(client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    with mid_time_step():
        secret = enrol(client)
    _page, next_one = enrol_page(client)  # setting it up again starts from a new key
    assert next_one != secret


def test_phones_get_an_otpauth_link_with_the_same_key(client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    page, secret = enrol_page(client)
    link = re.search(r'<p class="otpauth-link"><a [^>]*href="(otpauth://totp/[^"]+)"', page)
    assert link and f"secret={secret}" in link.group(1)


def verify_with_app(client: FlaskClient, code: str) -> int:
    """Step up with the authenticator (as before changing something); the status code."""
    return post(client, "/register/verify/totp", {"code": code, "next": "/register"}).status_code


def test_codes_one_step_either_side_are_accepted_and_two_steps_are_not(
        client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    with mid_time_step():
        secret = enrol(client)
    for steps, expected in ((-2, 400), (2, 400), (-1, 302), (1, 302)):
        with mid_time_step(), clock.travel(timedelta(minutes=5 * (steps + 3))):
            assert verify_with_app(client, code_at(secret, steps)) == expected, steps


def test_a_code_in_another_script_s_digits_is_a_wrong_code(client: FlaskClient,
                                                          sign_in_as: Callable[..., Any]) -> None:
    """"١٢٣٤٥٦" passes str.isdigit(); it is refused as a wrong code (400), on enrolment and after."""
    sign_in_as("carol")
    with mid_time_step():
        _page, secret = enrol_page(client)
        arabic = "".join(chr(0x0660 + int(d)) for d in code_at(secret, 0))
        assert post(client, "/register/totp", {"code": arabic}).status_code == 400
        assert post(client, "/register/totp", {"code": code_at(secret, 0)}).status_code == 302
    with mid_time_step(), clock.travel(timedelta(minutes=5)):
        fullwidth = "".join(chr(0xFF10 + int(d)) for d in code_at(secret, 0))
        assert verify_with_app(client, fullwidth) == 400
        assert verify_with_app(client, code_at(secret, 0)) == 302


def test_a_code_works_once_and_older_codes_stop_working_after_a_newer_one(
        client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    with mid_time_step():
        secret = enrol(client)
    with mid_time_step(), clock.travel(timedelta(minutes=2)):
        assert verify_with_app(client, code_at(secret, 1)) == 302
        assert verify_with_app(client, code_at(secret, 1)) == 400  # replay of the same code
        assert verify_with_app(client, code_at(secret, 0)) == 400  # an older step after a newer one


def test_the_enrolment_code_itself_cannot_be_replayed(client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    with mid_time_step():
        _page, secret = enrol_page(client)
        code = code_at(secret, 0)
        post(client, "/register/totp", {"code": code})

        assert verify_with_app(client, code) == 400
