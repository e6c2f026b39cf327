"""Security info the directory already holds (mobile, alternate mail) counts without registering,
is shown as the directory's, and a malformed directory value is simply not a method."""
from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient

from devstack.slapd import Slapd
from tests.registration_support import app, portal_app, sign_in, sms_gateway, status  # noqa: F401


def test_directory_values_are_shown_as_the_directorys(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "alice", next_path="/register")

    page = client.get("/register").get_data(as_text=True)

    assert page.count("From your organization's directory") == 2
    assert "a•••e@mail.example" in page and "+1 ••• ••• 0101" in page
    assert "You need 1 of them; you have 2." in page


def test_a_malformed_directory_number_is_not_a_method(app: Flask, client: FlaskClient, slapd: Slapd) -> None:
    login = f"frank-{uuid.uuid4().hex[:8]}"
    slapd.add_person(login, "Frank.Test.2026!", mobile="12345", mailLocalAddress=f"{login}@home.example")

    code, frank = status(client, login)

    assert (code, frank["methods"], frank["registered"]) == (200, 1, True)  # the mail counts, the number not
