"""Security info pages read well: errors summed up and linked to their fields, what was typed kept
(never a password), steps shown, and the last method removed only once the person confirmed it."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.store.security_info import AuthMethod
from tests.registration_support import app, enrol, mid_time_step, portal_app, post, sms_gateway  # noqa: F401

GOOD = {"question_1": "first-pet", "answer_1": "Rex the Dog",
        "question_2": "first-car", "answer_2": "Volvo 240",
        "question_3": "childhood-street", "answer_3": "Ørstedsgade"}


def kinds(app: Flask) -> list[str]:
    with app.extensions["store"].transaction() as db:
        return sorted(m.kind for m in db.scalars(select(AuthMethod)))


def test_questions_keep_every_answer_after_an_error_and_the_summary_links_to_the_form(
        client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")

    refused = post(client, "/register/questions", {**GOOD, "answer_2": "ab"})

    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="form-errors"' in page and 'href="#question_1"' in page and "autofocus" in page
    assert 'value="Rex the Dog"' in page and 'value="ab"' in page and 'value="Ørstedsgade"' in page
    assert '<option value="first-car" selected>' in page


def test_removing_the_last_method_asks_first_and_says_what_it_means(
        app: Flask, client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    with mid_time_step():
        enrol(client)

    asked = post(client, "/register/totp/remove")

    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Remove your last method?" in page
    assert "cannot reset your password" in page and 'name="confirmed" value="yes"' in page
    assert kinds(app) == ["totp"]  # nothing removed yet
    assert post(client, "/register/totp/remove", {"confirmed": "yes"}).status_code == 302
    assert kinds(app) == []


def test_a_method_that_is_not_the_last_goes_at_once(app: Flask, client: FlaskClient,
                                                    sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    with mid_time_step():
        enrol(client)
    assert post(client, "/register/questions", GOOD).status_code == 302

    assert post(client, "/register/totp/remove").status_code == 302
    assert kinds(app) == []  # the answers are rows of their own; the app is gone
    assert "Remove your last method?" in post(client, "/register/questions/remove").get_data(as_text=True)


def test_a_new_address_shows_its_steps_and_keeps_what_was_typed(client: FlaskClient,
                                                                sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")
    form = client.get("/register/email").get_data(as_text=True)
    refused = post(client, "/register/email", {"address": "not an address"})

    assert "Step 1 of 2" in form and 'aria-current="step"' in form
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'href="#address"' in page and 'value="not an address"' in page


def test_a_method_the_directory_backs_up_goes_without_asking(app: Flask, client: FlaskClient,
                                                            sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("alice")  # the directory holds alice's alternate mail and mobile: they still count
    with mid_time_step():
        enrol(client)

    assert post(client, "/register/totp/remove").status_code == 302
    assert kinds(app) == []
