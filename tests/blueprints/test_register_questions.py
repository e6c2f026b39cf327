"""Security questions: N answered from the built-in and custom list, answers normalized and hashed
with argon2, weak sets refused; administrators are never offered questions."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devstack import people
from portal.adapters.directory import directory_for
from portal.services.proofs import verification
from portal.services.proofs.methods import questions
from portal.store.security_info import SecurityAnswer
from tests.registration_support import app, portal_app, post, sign_in, sms_gateway, status  # noqa: F401

CUSTOM = "What was the name of the project you joined first?"
GOOD = {"question_1": "first-pet", "answer_1": "Rex the Dog",
        "question_2": "first-car", "answer_2": "  Volvo   240 ",
        "question_3": "childhood-street", "answer_3": "Ørstedsgade"}


def answers(app: Flask) -> list[SecurityAnswer]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(SecurityAnswer).order_by(SecurityAnswer.question_key)))


def test_answers_are_saved_as_argon2_hashes_of_their_normalized_form(
        app: Flask, client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("carol")

    saved = post(client, "/register/questions", GOOD)

    assert saved.status_code == 302
    stored = answers(app)
    assert [a.question_key for a in stored] == ["childhood-street", "first-car", "first-pet"]
    assert all(a.answer_hash.startswith("$argon2id$") for a in stored)
    assert not any(answer in a.answer_hash for a in stored for answer in ("rex the dog", "volvo 240", "ørstedsgade"))
    with app.test_request_context():
        carol = directory_for(app).find_user("carol")
        assert carol is not None
        limits = app.extensions["settings"].codes
        with app.extensions["store"].transaction() as db:
            # case, spacing and Unicode forms do not matter at reset
            assert verification.check_answers(db, limits, user=carol, purpose="test", answers={
                "first-pet": "REX THE DOG", "first-car": "volvo 240", "childhood-street": "ØRSTEDSGADE"})
            assert not verification.check_answers(db, limits, user=carol, purpose="test", answers={
                "first-pet": "rex", "first-car": "volvo 240"})


@pytest.mark.parametrize("change, message", [
    ({"answer_2": "ab"}, "Each answer needs 3 to 200 characters."),
    ({"answer_2": "REX  the dog"}, "Give a different answer to each question."),
    ({"answer_3": "carol123"}, "An answer must not contain your user name."),
    ({"question_2": "first-pet"}, "Choose 3 different questions from the list."),
    ({"question_3": "not-a-question"}, "Choose 3 different questions from the list."),
])
def test_weak_or_incomplete_sets_are_refused(app: Flask, client: FlaskClient, sign_in_as: Callable[..., Any],
                                             change: dict[str, str], message: str) -> None:
    sign_in_as("carol")

    refused = post(client, "/register/questions", {**GOOD, **change})

    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    assert answers(app) == []


def test_custom_questions_from_settings_are_offered_beside_the_built_in_ones(
        portal_app: Callable[..., Flask]) -> None:
    client = portal_app(tables=f'[registration.questions]\ncustom = ["{CUSTOM}"]').test_client()
    sign_in(client, "carol")

    page = client.get("/register/questions").get_data(as_text=True)

    assert CUSTOM in page and "What was the name of your first pet?" in page


def test_an_administrator_is_offered_no_questions_and_needs_two_methods(
        client: FlaskClient, sign_in_as: Callable[..., Any]) -> None:
    assert "portal-admins" in people.person("erin").groups
    sign_in_as("erin")

    page = client.get("/register").get_data(as_text=True)

    assert "Security questions" not in page
    assert "You need 2 of them" in page
    assert client.get("/register/questions").status_code == 404
    assert post(client, "/register/questions", GOOD).status_code == 404


def test_rewording_a_custom_question_retires_the_answers_given_to_it(portal_app: Callable[..., Flask]) -> None:
    before = portal_app(tables=f'[registration.questions]\ncustom = ["{CUSTOM}"]')
    client = before.test_client()
    sign_in(client, "carol")
    custom_key = questions.catalogue(before.extensions["settings"].registration.questions)[-1].key
    assert post(client, "/register/questions", {**GOOD, "question_3": custom_key}).status_code == 302
    after = portal_app(tables='[registration.questions]\ncustom = ["Which project did you join first?"]')

    assert status(before.test_client(), "carol")[1]["methods"] == 1
    assert status(after.test_client(), "carol")[1]["methods"] == 0  # same database, reworded question
    assert "This does not count any more" in _signed_in(after, "carol").get("/register").get_data(as_text=True)


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, username)
    return client
