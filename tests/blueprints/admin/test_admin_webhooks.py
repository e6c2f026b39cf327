"""/admin/webhooks: the delivery log, newest first, a page at a time, for administrators only."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from portal.adapters.directory import DirectoryUser
from portal.services.messaging import webhooks
from tests.admin_support import ADMIN, NOT_ADMIN, admin_app  # noqa: F401
from tests.registration_support import sign_in
from tests.webhook_support import WebhookReceiver, receiver  # noqa: F401 - fixture

BOB = DirectoryUser(dn="uid=bob,ou=people,dc=example,dc=test", directory_id="id-bob", login="bob",
                    display_name="Bob")


def emit(app: Flask, event: str, count: int = 1) -> None:
    with app.app_context(), app.extensions["store"].transaction() as db:
        for _ in range(count):
            webhooks.emit(db, app.extensions["outbox"], event, BOB)


@pytest.fixture
def app(admin_app: Callable[..., Flask], receiver: WebhookReceiver) -> Flask:
    return admin_app(tables="[outbox]\nin_process_worker = false\n" + receiver.toml())


def signed_in(app: Flask, username: str = ADMIN) -> Any:
    client = app.test_client()
    sign_in(client, username)
    return client


def rows_of(page: str) -> list[str]:
    body = page[page.index("<tbody>"):page.index("</tbody>")] if "<tbody>" in page else ""
    return body.split("<tr>")[1:]


def test_the_log_shows_each_delivery_with_its_status_attempts_and_error(app: Flask, receiver: WebhookReceiver) -> None:
    emit(app, webhooks.PASSWORD_RESET)
    emit(app, webhooks.PASSWORD_CHANGED)
    receiver.answers = [204, 500]
    app.extensions["outbox"].deliver_due()

    page = signed_in(app).get("/admin/webhooks").get_data(as_text=True)

    changed, reset = rows_of(page)   # newest first
    assert "password.changed" in changed and "retrying" in changed and "endpoint answered HTTP 500" in changed
    assert "password.reset" in reset and "delivered" in reset and ">1</td>" in reset
    assert receiver.url in page and receiver.secret not in page


def test_the_log_pages_and_refuses_a_bad_page_number(app: Flask) -> None:
    emit(app, webhooks.REGISTRATION_CHANGED, count=53)
    admin = signed_in(app)

    first = admin.get("/admin/webhooks").get_data(as_text=True)
    assert len(rows_of(first)) == 50 and "Older deliveries" in first
    older = first.split('href="/admin/webhooks?before=')[1].split('"')[0]
    rest = admin.get(f"/admin/webhooks?before={older}").get_data(as_text=True)
    assert len(rows_of(rest)) == 3 and "Older deliveries" not in rest
    assert admin.get("/admin/webhooks?before=abc").status_code == 400


def test_people_who_are_not_administrators_cannot_read_it(app: Flask) -> None:
    assert signed_in(app, NOT_ADMIN).get("/admin/webhooks").status_code == 403


def test_without_endpoints_the_page_says_so(admin_app: Callable[..., Flask]) -> None:
    page = signed_in(admin_app()).get("/admin/webhooks").get_data(as_text=True)
    assert "No endpoints are configured." in page and "No webhooks were sent yet." in page
