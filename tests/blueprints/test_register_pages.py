"""The registration pages are for the signed-in person only, and every form is protected by CSRF."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.registration_support import app, portal_app, sms_gateway  # noqa: F401

POSTS = ["/register/confirm", "/register/email", "/register/email/confirm", "/register/phone",
         "/register/phone/confirm", "/register/totp", "/register/questions", "/register/email/remove",
         "/register/totp/remove", "/register/verify/send", "/register/verify/code", "/register/verify/totp"]


@pytest.mark.parametrize("path", ["/register", "/register/email", "/register/totp", "/register/verify",
                                  "/enforce/continue?return_to=https://apps.example.test/"])
def test_signed_out_visitors_are_sent_to_sign_in_first(client: FlaskClient, path: str) -> None:
    answer = client.get(path)

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/signin?next=")


@pytest.mark.parametrize("path", POSTS)
def test_every_form_needs_its_csrf_token(client: FlaskClient, sign_in_as: Callable[..., Any], path: str) -> None:
    sign_in_as("alice")

    answer = client.post(path, data={"address": "x@mail.example", "code": "123456", "destination": "email-directory"})

    assert answer.status_code == 400
    assert "This page has expired" in answer.get_data(as_text=True)
