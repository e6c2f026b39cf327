"""SMS gateways speak real HTTP to a recording server: the generic webhook (JSON and headers from
settings) and Twilio's REST API; busy gateways are retried, refusals are not."""
from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import parse_qs

import pytest
from flask import Flask
from sqlalchemy import select

from portal.services.messaging.outbox import Outbox
from portal.store.outbox import OutboxMessage
from tests.registration_support import SMS_TOKEN, SmsGatewayServer, sms_gateway  # noqa: F401 - fixture


def twilio_toml(url: str) -> str:
    return f"""
[outbox]
in_process_worker = false

[sms]
provider = "twilio"

[sms.twilio]
account_sid = "AC0123456789abcdef"
auth_token = "twilio-token-secret"
from_number = "+12015550100"
api_url = "{url}"
"""


def webhook_toml(url: str) -> str:
    return f"""
[outbox]
in_process_worker = false

[sms]
provider = "webhook"

[sms.webhook]
url = "{url}/send?tenant=contoso"
headers = {{ Authorization = "{SMS_TOKEN}", X-Tenant = "contoso" }}
body = {{ recipient = "{{to}}", content = "{{message}}", note = "braces {{x}} stay" }}
"""


def send(app: Flask, text: str = "123456 is your code") -> Outbox:
    outbox: Outbox = app.extensions["outbox"]
    with app.app_context(), app.extensions["store"].transaction() as db:
        outbox.enqueue_sms(db, "+12015550142", text, purpose="test")
    outbox.deliver_due()
    return outbox


def statuses(app: Flask) -> list[tuple[str, int]]:
    with app.extensions["store"].transaction() as db:
        return [tuple(row) for row in db.execute(select(OutboxMessage.status, OutboxMessage.attempts))]


def test_twilio_gets_its_form_with_basic_auth(make_app: Callable[..., Flask], sms_gateway: SmsGatewayServer) -> None:
    app = make_app(twilio_toml(sms_gateway.url))

    send(app)

    [request] = sms_gateway.wait_for(1)
    assert request.path == "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(
        b"AC0123456789abcdef:twilio-token-secret").decode()
    assert parse_qs(request.body.decode()) == {"To": ["+12015550142"], "From": ["+12015550100"],
                                               "Body": ["123456 is your code"]}
    assert statuses(app) == [("sent", 1)]


def test_the_webhook_gets_the_configured_json_and_headers(make_app: Callable[..., Flask],
                                                          sms_gateway: SmsGatewayServer) -> None:
    app = make_app(webhook_toml(sms_gateway.url))

    send(app, "Code {0} {to}: 654321")

    [request] = sms_gateway.wait_for(1)
    assert request.path == "/send?tenant=contoso"
    assert (request.headers["Authorization"], request.headers["X-Tenant"]) == (SMS_TOKEN, "contoso")
    assert request.json() == {"recipient": "+12015550142", "content": "Code {0} {to}: 654321",
                              "note": "braces {x} stay"}


@pytest.mark.parametrize("answer, expected", [(500, ("pending", 1)), (503, ("pending", 1)), (429, ("pending", 1)),
                                              (400, ("failed", 1)), (401, ("failed", 1))])
def test_busy_gateways_are_retried_and_refusals_are_final(make_app: Callable[..., Flask],
                                                          sms_gateway: SmsGatewayServer, answer: int,
                                                          expected: tuple[str, int]) -> None:
    sms_gateway.status = answer
    app = make_app(twilio_toml(sms_gateway.url))

    send(app)

    assert statuses(app) == [expected]


def test_an_unreachable_gateway_is_retried(make_app: Callable[..., Flask], sms_gateway: SmsGatewayServer) -> None:
    url = sms_gateway.url
    sms_gateway.stop()
    app = make_app(webhook_toml(url))

    send(app)

    assert statuses(app) == [("pending", 1)]
