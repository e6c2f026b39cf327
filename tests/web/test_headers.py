"""The Content-Security-Policy's `form-action`: the allowed return origins only on the pages whose
forms can end an /enforce round trip there, and only while the person is on their way back."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from devstack.mailsink import MailSink
from devstack.ports import TEST
from tests.registration_support import APP_ORIGIN, app, portal_app, post, sign_in, sms_gateway  # noqa: F401

NARROW = {"'self'", TEST.issuer}
RESUME = f"/enforce/continue?return_to={quote(APP_ORIGIN + '/after', safe='')}"
# pages whose form can complete registration (or postpone it: "not now" on the notice page), and
# so continue to the other application
LEADING_BACK = ["/security-info/required", "/register", "/register/questions", "/register/totp",
                "/register/email/confirm"]
# pages a person on the way back also sees, whose forms end on the portal or at the provider
STAYING = ["/register/verify", "/register/email", "/register/phone"]


def form_action(client: FlaskClient, path: str) -> set[str]:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.headers.get("Location"))
    [directive] = [d.strip() for d in answer.headers["Content-Security-Policy"].split(";")
                   if d.strip().startswith("form-action ")]
    return set(directive.split()[1:])


@pytest.fixture
def returning(client: FlaskClient, mailbox: MailSink) -> FlaskClient:
    """Carol, sent by another application, who must register first; an email code is on its way
    (so the code page is there to load)."""
    sign_in(client, "carol", next_path=RESUME)
    assert post(client, "/register/email", {"address": "carol.home@mail.example"}).status_code == 302
    return client


@pytest.mark.parametrize("path", LEADING_BACK)
def test_pages_that_can_complete_registration_allow_the_return_origins(returning: FlaskClient, path: str) -> None:
    assert form_action(returning, path) == NARROW | {APP_ORIGIN}


@pytest.mark.parametrize("path", STAYING)
def test_other_pages_on_the_way_back_keep_the_narrow_policy(returning: FlaskClient, path: str) -> None:
    assert form_action(returning, path) == NARROW


def test_a_person_registering_on_their_own_gets_the_narrow_policy_everywhere(client: FlaskClient) -> None:
    sign_in(client, "carol")   # interrupted on the way to the landing page, not to another application

    assert {path: form_action(client, path) for path in ["/register", "/register/questions"]} == {
        "/register": NARROW, "/register/questions": NARROW}


def test_a_compliant_person_s_registration_pages_keep_the_narrow_policy(client: FlaskClient) -> None:
    sign_in(client, "alice", next_path=RESUME)

    assert form_action(client, "/register") == NARROW
