"""Registration enforced at sign-in: people in scope without enough methods, or due to re-confirm,
are sent to register first, cannot get around it, and continue where they were going afterwards."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import clock
from portal.store.audit import AuditEvent
from tests.registration_support import QUESTIONS, REQUIRED, app, portal_app, post, sign_in, sms_gateway  # noqa: F401


def events(app: Flask, name: str) -> list[AuditEvent]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_a_person_without_methods_registers_first_then_continues_where_they_were_going(
        app: Flask, client: FlaskClient) -> None:
    arrived = sign_in(client, "carol", next_path="/?from=mail")

    assert arrived.headers["Location"] == REQUIRED
    notice = client.get(REQUIRED).get_data(as_text=True)
    assert "requires you to verify your authentication information" in notice
    assert "requires you to register your security info" in client.get("/register").get_data(as_text=True)

    done = post(client, "/register/questions", QUESTIONS)

    assert done.headers["Location"] == "/?from=mail"
    assert client.get("/").status_code == 200
    [required] = events(app, "enforcement.required")
    assert (required.username, required.reason) == ("carol", "missing")


def test_no_page_of_the_portal_can_be_used_to_skip_registration(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "carol")
    open_endpoints = {"enforce.required", "enforce.snooze", "enforce.start", "auth.signin", "auth.callback",
                      "auth.signout"}
    token = client.csrf_token("/register")
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or rule.endpoint in open_endpoints or rule.endpoint.split(".")[0] in (
                "register", "assets", "health", "static"):
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        answer = client.open(rule.rule, method=method, data={"csrf_token": token} if method == "POST" else None)
        assert (answer.status_code, answer.headers.get("Location")) == (302, REQUIRED), rule.rule
        checked.append(rule.rule)
    assert {"/", "/enforce/continue"} <= set(checked), checked


def test_people_whose_directory_data_is_enough_are_not_interrupted(app: Flask, client: FlaskClient) -> None:
    # alice's mobile and alternate mail are in the directory (directory_methods = email, phone)
    assert sign_in(client, "alice", next_path="/register").headers["Location"] == "/register"
    assert client.get("/").status_code == 200
    assert events(app, "enforcement.required") == []


def test_people_outside_the_rollout_scope_are_not_interrupted(portal_app: Callable[..., Flask]) -> None:
    pilot_only = portal_app(rollout='reset = "group"\ngroups = ["sspr-pilot"]')

    assert sign_in(pilot_only.test_client(), "dave").headers["Location"] == "/"  # not in sspr-pilot
    assert sign_in(pilot_only.test_client(), "carol").headers["Location"] == REQUIRED


def test_nobody_is_interrupted_when_registration_is_not_required(portal_app: Callable[..., Flask]) -> None:
    client = portal_app(require_registration="false").test_client()

    assert sign_in(client, "carol").headers["Location"] == "/"


def test_within_reconfirm_days_nobody_is_asked_again(app: Flask) -> None:
    earlier = app.test_client()
    sign_in(earlier, "carol")
    with clock.travel(timedelta(days=-179)):
        assert post(earlier, "/register/questions", QUESTIONS).status_code == 302

    assert sign_in(app.test_client(), "carol").headers["Location"] == "/"


def test_after_reconfirm_days_people_confirm_their_info_and_continue(app: Flask) -> None:
    half_a_year_ago = app.test_client()
    sign_in(half_a_year_ago, "carol")
    with clock.travel(timedelta(days=-181)):
        assert post(half_a_year_ago, "/register/questions", QUESTIONS).status_code == 302
    client = app.test_client()  # today, in a new browser session

    arrived = sign_in(client, "carol", next_path="/?later=1")

    assert arrived.headers["Location"] == REQUIRED
    assert "Check that your security info is still correct" in client.get(REQUIRED).get_data(as_text=True)
    confirmed = post(client, "/register/confirm")
    assert confirmed.headers["Location"] == "/?later=1"
    assert [e.reason for e in events(app, "enforcement.required")] == ["missing", "reconfirm"]
    assert len(events(app, "registration.confirmed")) == 1


def test_confirming_is_refused_while_methods_are_missing(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "carol")

    refused = post(client, "/register/confirm")

    assert refused.headers["Location"] == "/register"
    assert events(app, "registration.confirmed") == []
    assert client.get("/").headers["Location"] == REQUIRED
