"""/enforce for other applications: single sign-on, the same check, and back only to allowed origins;
plus the status API integrators call with their key."""
from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from portal.store.audit import AuditEvent
from tests.registration_support import (API_KEY, APP_ORIGIN, QUESTIONS, REQUIRED, app, code_at,  # noqa: F401
                                         enrol_page, mid_time_step, portal_app, post, sign_in, sign_in_long_ago,
                                         sms_gateway, status)

ATTACKS = [
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://evil.example/",
    f"{APP_ORIGIN}@evil.example/",
    f"https://user:pass@{APP_ORIGIN[8:]}/",
    f"{APP_ORIGIN}.evil.example/",
    f"https://evil{APP_ORIGIN[8:]}/",
    f"https://{APP_ORIGIN[8:]}./",
    f"https://{APP_ORIGIN[8:]}:8443/",
    f"http://{APP_ORIGIN[8:]}/",
    "https://аpps.example.test/",  # Cyrillic а: a look-alike host
    "https://xn--pps-8cd.example.test/",
    "https://%61pps.example.test/",
    f"{APP_ORIGIN}%2F@evil.example/",
    f"{APP_ORIGIN}\\@evil.example/",
    f"{APP_ORIGIN}/\r\nSet-Cookie: x=1",
    f" {APP_ORIGIN}/",
    f"{APP_ORIGIN}/\x00",
    "https:evil.example",
    "",
]


def refused(app: Flask) -> list[AuditEvent]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.event == "enforcement.return_refused")))


@pytest.mark.parametrize("target", ATTACKS)
def test_a_return_address_off_the_allow_list_goes_home_and_is_logged(
        app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture, target: str) -> None:
    with caplog.at_level(logging.WARNING):
        answer = client.get(f"/enforce?return_to={quote(target, safe='')}")

    assert (answer.status_code, answer.headers["Location"]) == (302, "/")
    assert any(record.getMessage() == "return_to refused" for record in caplog.records)
    [event] = refused(app)
    assert (event.outcome, event.reason) == ("refused", "origin_not_allowed")


def test_the_continue_step_checks_the_address_again(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "alice")

    for target in ATTACKS:
        answer = client.get(f"/enforce/continue?return_to={quote(target, safe='')}")
        assert (answer.status_code, answer.headers["Location"]) == (302, "/"), target
    assert len(refused(app)) == len(ATTACKS)


def test_a_registered_person_goes_through_sign_in_and_back_to_the_app(app: Flask, client: FlaskClient) -> None:
    target = f"{APP_ORIGIN}/welcome?tab=2#top"

    start = client.get(f"/enforce?return_to={quote(target, safe='')}")
    assert start.headers["Location"].startswith("/signin?next=")
    back = sign_in(client, "alice", next_path=f"/enforce/continue?return_to={quote(target, safe='')}")
    assert back.headers["Location"].startswith("/enforce/continue?return_to=")

    assert client.get(back.headers["Location"]).headers["Location"] == target


def test_a_person_who_must_register_does_so_and_then_returns_to_the_app(app: Flask, client: FlaskClient) -> None:
    target = f"{APP_ORIGIN}/after"
    resume = f"/enforce/continue?return_to={quote(target, safe='')}"

    assert sign_in(client, "carol", next_path=resume).headers["Location"] == REQUIRED
    registered = post(client, "/register/questions", QUESTIONS)
    assert registered.headers["Location"] == resume

    assert client.get(resume).headers["Location"] == target


def test_signing_in_again_in_the_middle_of_registering_still_returns_to_the_app(
        app: Flask, client: FlaskClient) -> None:
    target = f"{APP_ORIGIN}/after"
    resume = f"/enforce/continue?return_to={quote(target, safe='')}"
    assert sign_in(client, "carol", next_path=resume).headers["Location"] == REQUIRED
    sign_in_long_ago(client)   # too old to change a method: the portal asks her to sign in again
    assert client.get("/register/questions").headers["Location"].startswith("/register/verify")

    assert sign_in(client, "carol", next_path="/register/questions").headers["Location"] == "/register/questions"
    registered = post(client, "/register/questions", QUESTIONS)

    assert registered.headers["Location"] == resume


def test_someone_else_signing_in_on_the_same_browser_does_not_inherit_the_return(
        app: Flask, client: FlaskClient) -> None:
    resume = f"/enforce/continue?return_to={quote(APP_ORIGIN + '/after', safe='')}"
    sign_in(client, "carol", next_path=resume)

    sign_in(client, "erin", next_path="/register/totp")   # an administrator one method short
    with mid_time_step():
        _page, secret = enrol_page(client)
        registered = post(client, "/register/totp", {"code": code_at(secret, 0)})

    assert registered.headers["Location"] == "/"


def test_the_status_api_reports_registration_for_integrators(app: Flask, client: FlaskClient) -> None:
    code, alice = status(client, "alice")
    assert code == 200
    assert alice == {"user": "alice", "registered": True, "methods": 2, "methods_required": 1,
                     "administrator": False, "last_confirmation": None, "compliant": True, "reason": None}

    code, carol = status(client, "carol")
    assert (code, carol["registered"], carol["methods"], carol["compliant"], carol["reason"]) == (
        200, False, 0, False, "missing")

    code, erin = status(client, "erin")  # mobile from the directory: one of the two she needs
    assert (erin["administrator"], erin["methods"], erin["methods_required"], erin["compliant"]) == (True, 1, 2, False)


@pytest.mark.parametrize("key", [None, "", "wrong-key", API_KEY + "x", API_KEY.upper()])
def test_the_status_api_needs_the_key(client: FlaskClient, key: str | None) -> None:
    code, body = status(client, "alice", key)

    assert (code, body) == (401, {"error": "unauthorized"})


def test_the_status_api_answers_plainly_for_unknown_or_missing_users(client: FlaskClient) -> None:
    assert status(client, "nobody-at-all") == (404, {"error": "unknown_user"})
    assert status(client, "")[0] == 400


def test_the_status_api_is_off_without_a_key(portal_app: Callable[..., Flask]) -> None:
    client = portal_app(api_key="").test_client()

    assert status(client, "alice")[0] == 404
