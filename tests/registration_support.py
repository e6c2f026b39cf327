"""What the registration, enforcement and outbox tests share: settings, a real SMS gateway, helpers.

The SMS gateway is a small real HTTP server on 127.0.0.1 that records every request it gets
(method, path, headers, body) and answers with the status a test chooses: the portal's webhook
and Twilio clients talk real HTTP to it, as they would to the provider.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient

from devstack.mailsink import MailSink
from devstack.oidc_provider import OidcProvider
from devstack.ports import TEST
from tests.support import MAIL_TOML
from portal import clock

API_KEY = "integration-key-" + "k" * 32
APP_ORIGIN = "https://apps.example.test"
SMS_TOKEN = "Bearer sms-gateway-test-token"
CODE = re.compile(r"\b(\d{6})\b")
# the demo directory keeps alternate mail in mailLocalAddress (slapd has no otherMailbox there)
DIRECTORY_ENVIRON = {"PORTAL_DIRECTORY__ALTERNATE_EMAIL_ATTRIBUTE": "mailLocalAddress"}
# where enforcement sends people in scope, and a set of answers that registers them
REQUIRED = "/security-info/required"
QUESTIONS = {"question_1": "first-pet", "answer_1": "Rex the Dog", "question_2": "first-car",
             "answer_2": "Volvo 240", "question_3": "childhood-street", "answer_3": "Elm Street"}
SECRET = re.compile(r'<code class="secret-key">([A-Z2-7 ]+)</code>')


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class SmsGatewayServer:
    """A recording HTTP server; set `status` to make it fail."""

    status: int = 200
    received: list[Received] = field(default_factory=list)

    def start(self) -> None:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.received.append(Received("POST", self.path, dict(self.headers.items()), body))
                self.send_response(recorder.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"sid": "SM123"}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.received)} SMS received, expected {count}")
            time.sleep(0.02)
        return self.received


@pytest.fixture
def sms_gateway() -> Iterator[SmsGatewayServer]:
    server = SmsGatewayServer()
    server.start()
    yield server
    server.stop()


def registration_toml(sms_url: str, *, registration: str = "", top: str = "", sms_provider: str = "webhook",
                      rollout: str = 'reset = "everybody"', require_registration: str = "true",
                      api_key: str = API_KEY, tables: str = "") -> str:
    """Settings with mail to the dev stack's SMTP sink and SMS to the recording gateway."""
    return f"""{top}
[registration]
methods = ["email", "phone", "totp", "questions"]
directory_methods = ["email", "phone"]
admin_groups = ["portal-admins"]
require_registration = {require_registration}
return_to_origins = ["{APP_ORIGIN}"]
api_key = "{api_key}"
{registration}

[registration.phone]
allowed_countries = ["US", "CA", "GB"]

[rollout]
{rollout}

{MAIL_TOML}

[sms]
provider = "{sms_provider}"

[sms.webhook]
url = "{sms_url}/sms"
headers = {{ Authorization = "{SMS_TOKEN}" }}
body = {{ to = "{{to}}", text = "{{message}}", sender = "Portal" }}
{tables}
"""


@pytest.fixture
def portal_app(make_app: Callable[..., Flask], oidc_provider: OidcProvider, mailbox: MailSink,
               sms_gateway: SmsGatewayServer) -> Callable[..., Flask]:
    """Build a portal with registration settings; keyword arguments add TOML (see registration_toml)."""
    def build(**extra: str) -> Flask:
        return make_app(registration_toml(sms_gateway.url, **extra), environ=DIRECTORY_ENVIRON)
    return build


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, f"no code in {text!r}"
    return match.group(1)


def mail_body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def code_mail(mailbox: MailSink, to: str) -> str:
    """The code in the newest code mail to `to`."""
    message = mailbox.wait_for(lambda m: m["To"] == to and "verification code" in m["Subject"])
    codes = [m for m in mailbox.messages() if m["To"] == to and "verification code" in m["Subject"]]
    return code_in(mail_body(codes[-1] if codes else message))


def sign_in_long_ago(client: FlaskClient, minutes: int = 60) -> None:
    """Make the session's sign-in older, as if the person signed in `minutes` ago."""
    with client.session_transaction() as session:
        user = dict(session["user"])
        user["auth_time"] -= minutes * 60
        session["user"] = user


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> Any:
    """POST as the signed-in person's browser would, with the session's CSRF token."""
    return client.post(path, data={"csrf_token": client.csrf_token("/register"), **(data or {})}, **kwargs)


@contextmanager
def mid_time_step(step: int = 30) -> Iterator[None]:
    """Move the clock to the middle of a TOTP time step, so a test never straddles a boundary."""
    with clock.travel(timedelta(seconds=step // 2 - clock.timestamp() % step)):
        yield


@pytest.fixture
def app(portal_app: Callable[..., Flask]) -> Flask:
    """Overrides conftest's `app`, so `client` and `sign_in_as` use the registration settings."""
    return portal_app()


def sign_in(client: FlaskClient, username: str, next_path: str | None = None) -> Any:
    """The real sign-in round trip for a client of any app; the callback's response."""
    from tests.conftest import provider_callback

    return client.get(provider_callback(client, username, next_path=next_path))


def status(client: FlaskClient, user: str, key: str | None = API_KEY) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    answer = client.get(f"/api/v1/registration-status?user={user}", headers=headers)
    return answer.status_code, answer.get_json()


def enrol_page(client: FlaskClient) -> tuple[str, str]:
    """The enrolment page and the secret it shows (spaces removed)."""
    page = client.get("/register/totp").get_data(as_text=True)
    match = SECRET.search(page)
    assert match, page
    return page, match.group(1).replace(" ", "")


def code_at(secret: str, steps_from_now: int) -> str:
    return pyotp.TOTP(secret).at(clock.timestamp() + 30 * steps_from_now)


def enrol(client: FlaskClient) -> str:
    _page, secret = enrol_page(client)
    assert post(client, "/register/totp", {"code": code_at(secret, 0)}).status_code == 302
    return secret
