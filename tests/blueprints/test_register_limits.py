"""Limits and secrecy around registration: codes per account, destination and IP; no code, answer
or authenticator secret in any log line, audit record or delivered outbox row."""
from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devstack import people
from devstack.mailsink import MailSink
from portal.services.security import audit
from portal.store.audit import AuditEvent
from portal.store.outbox import OutboxMessage
from portal.store.security_info import OneTimeCode
from tests.parallel_support import at_once
from tests.registration_support import (SECRET, app, code_at, code_mail, enrol, mid_time_step, portal_app, post,  # noqa: F401
                                         sign_in, sms_gateway)


def send_email_code(client: FlaskClient, address: str) -> int:
    return post(client, "/register/email", {"address": address}).status_code


def refusals(app: Flask) -> list[AuditEvent]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.event == "code.sent",
                                                        AuditEvent.outcome == "refused")))


@pytest.mark.parametrize("limit, addresses", [
    ("per_account_per_hour", ["a@mail.example", "b@mail.example", "c@mail.example"]),
    ("per_destination_per_hour", ["same@mail.example"] * 3),
])
def test_codes_per_account_and_per_destination_are_limited(portal_app: Callable[..., Flask], mailbox: MailSink,
                                                           limit: str, addresses: list[str]) -> None:
    app = portal_app(tables=f"[codes]\n{limit} = 2")
    client = app.test_client()
    sign_in(client, "carol")

    statuses = [send_email_code(client, address) for address in addresses]

    assert statuses == [302, 302, 429]
    assert "only a few codes can be sent per hour" in post(client, "/register/email",
                                                           {"address": addresses[-1]}).get_data(as_text=True)
    assert [e.reason for e in refusals(app)] == ["rate_limited", "rate_limited"]


def test_codes_per_ip_are_limited_across_accounts(portal_app: Callable[..., Flask], mailbox: MailSink) -> None:
    app = portal_app(tables="[codes]\nper_ip_per_hour = 2")
    first, second = app.test_client(), app.test_client()
    sign_in(first, "carol")
    sign_in(second, "dave")

    assert send_email_code(first, "carol.1@mail.example") == 302
    assert send_email_code(second, "dave.1@mail.example") == 302
    assert send_email_code(first, "carol.2@mail.example") == 429
    other_ip = post(second, "/register/email", {"address": "dave.2@mail.example"},
                    environ_base={"REMOTE_ADDR": "198.51.100.20"})
    assert other_ip.status_code == 302


def failure_reasons(app: Flask, event: str) -> Counter[str | None]:
    with app.extensions["store"].transaction() as db:
        return Counter(db.scalars(select(AuditEvent.reason).where(AuditEvent.event == event)))


PARALLEL = 20  # the per-IP limit of code checks a minute: every one of them reaches the check


def test_parallel_wrong_step_up_codes_are_compared_at_most_max_attempts_times(
        app: Flask, client: FlaskClient, mailbox: MailSink) -> None:
    sign_in(client, "alice")
    post(client, "/register/verify/send", {"destination": "email-directory"})
    code = code_mail(mailbox, people.person("alice").other_mail)
    form = {"csrf_token": client.csrf_token("/register"), "code": f"{(int(code) + 1) % 10 ** 6:06d}"}

    statuses = at_once(app, client.session_cookie or "", "/register/verify/code", form, PARALLEL)

    assert statuses == [400] * PARALLEL
    with app.extensions["store"].transaction() as db:
        assert list(db.scalars(select(OneTimeCode.attempts))) == [5]
    assert failure_reasons(app, "code.failed") == {"wrong": 4, "spent": 1, "missing": PARALLEL - 5}


def test_parallel_wrong_app_codes_are_compared_at_most_max_attempts_times(app: Flask, client: FlaskClient) -> None:
    sign_in(client, "alice")
    with mid_time_step():
        secret = enrol(client)
        form = {"csrf_token": client.csrf_token("/register"), "code": code_at(secret, 5), "next": "/register"}

        statuses = at_once(app, client.session_cookie or "", "/register/verify/totp", form, PARALLEL)

    assert statuses == [400] * PARALLEL
    assert failure_reasons(app, "totp.failed") == {"wrong": 5, "rate_limited": PARALLEL - 5}


def test_no_code_answer_or_secret_reaches_logs_audit_or_the_delivered_outbox(
        app: Flask, client: FlaskClient, mailbox: MailSink, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    answers = ["Correct Horse Battery", "Staple Tuesday Nine", "Purple Lighthouse"]
    with caplog.at_level(logging.DEBUG):
        sign_in(client, "carol")
        post(client, "/register/email", {"address": "carol.x@mail.example"})
        code = code_mail(mailbox, "carol.x@mail.example")
        post(client, "/register/email/confirm", {"code": code})
        post(client, "/register/questions", {
            "question_1": "first-pet", "answer_1": answers[0], "question_2": "first-car", "answer_2": answers[1],
            "question_3": "childhood-street", "answer_3": answers[2]})
        page = client.get("/register/totp").get_data(as_text=True)
        secret = SECRET.search(page).group(1).replace(" ", "")  # type: ignore[union-attr]
        post(client, "/register/totp", {"code": pyotp.TOTP(secret).now()})
        mailbox.wait_for(lambda m: "authenticator app was added" in m.get_body(("plain",)).get_content())

    # everything the portal logged (the test's own SMTP server logs message bodies: not ours)
    stdout = [line for line in capsys.readouterr().out.splitlines() if '"logger": "mail.log"' not in line]
    records = [f"{r.getMessage()} {json.dumps(vars(r), default=str)}" for r in caplog.records if r.name != "mail.log"]
    logged = "\n".join(stdout + records)
    with app.extensions["store"].transaction() as db:
        trail = json.dumps([[e.event, e.reason, e.details] for e in db.scalars(select(AuditEvent))])
        outbox = json.dumps([m.payload for m in db.scalars(select(OutboxMessage))])
    # the code as a number of its own (timestamps and thread ids in log records are long digit runs)
    leaked = re.compile(rf"(?<!\d){code}(?!\d)|{secret}|" + "|".join(re.escape(a) for a in answers), re.IGNORECASE)
    assert not leaked.search(logged)
    assert not leaked.search(trail)
    assert not leaked.search(outbox)
    assert "registration.method_added" in trail  # the trail is there; only the secrets are not


@pytest.mark.parametrize("name", ["code", "answer_1", "totp_secret", "new_password", "token"])
def test_the_audit_trail_refuses_details_that_could_carry_a_secret(app: Flask, name: str) -> None:
    with app.test_request_context(), app.extensions["store"].transaction() as db:
        with pytest.raises(ValueError, match="could carry a secret"):
            audit.record(db, "code.sent", audit.SUCCESS, username="carol", details={name: "x"})


def test_the_landing_page_offers_registration(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)

    assert 'href="/register"' in page and "Register or update my security info" in page
