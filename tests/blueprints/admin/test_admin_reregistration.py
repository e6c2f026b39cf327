"""/admin's "require re-registration": for one person or a group's members, each on record with
the administrator who asked; refused without CSRF, for anyone but an administrator, and with a
plain message when the name finds nobody."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.services.registration.reregistration import EVENT_REQUESTED
from portal.store.audit import AuditEvent
from portal.store.security_info import SecurityProfile
from tests.admin_support import ADMIN, NOT_ADMIN, admin_app, location, post  # noqa: F401 - fixture
from tests.registration_support import sign_in

ACTION = "/admin/reregistration"


@pytest.fixture
def app(admin_app: Callable[..., Flask]) -> Flask:
    return admin_app()


def signed_in(app: Flask, username: str) -> Any:
    client = app.test_client()
    sign_in(client, username)
    return client


def requests_on_record(app: Flask) -> list[tuple[str | None, Any]]:
    with app.extensions["store"].transaction() as db:
        return [(e.username, e.details) for e in db.scalars(
            select(AuditEvent).where(AuditEvent.event == EVENT_REQUESTED).order_by(AuditEvent.id))]


def requested(app: Flask) -> set[str]:
    with app.extensions["store"].transaction() as db:
        return set(db.scalars(select(SecurityProfile.username).where(
            SecurityProfile.reregistration_requested_at.is_not(None))))


def test_an_administrator_asks_one_person(app: Flask) -> None:
    admin = signed_in(app, ADMIN)
    assert "Require re-registration" in admin.get("/admin").get_data(as_text=True)

    answer = post(admin, ACTION, {"kind": "person", "name": "bob"}, token_from="/admin")

    assert (answer.status_code, location(answer)) == (303, "/admin#reregistration-heading")
    assert "1 person will be asked to re-register" in admin.get("/admin").get_data(as_text=True)
    assert requests_on_record(app) == [("bob", {"by": ADMIN})]
    assert requested(app) == {"bob"}


def test_an_administrator_asks_a_group(app: Flask) -> None:
    admin = signed_in(app, ADMIN)

    post(admin, ACTION, {"kind": "group", "name": "sspr-pilot"}, token_from="/admin")

    records = requests_on_record(app)
    asked = {username for username, _details in records}
    assert {"alice", "bob", "carol", "erin"} <= asked and "dave" not in asked
    assert all(details == {"by": ADMIN, "group": "sspr-pilot"} for _username, details in records)
    assert requested(app) == asked
    assert f"{len(asked)} people will be asked to re-register" in admin.get("/admin").get_data(as_text=True)


@pytest.mark.parametrize(("form", "status", "shown"), [
    ({"kind": "person", "name": "nobody-here"}, 303, "The directory has no person named"),
    ({"kind": "group", "name": "no-such-group"}, 303, "Nobody in the rollout scope is a member of"),
    ({"kind": "everyone", "name": "x"}, 400, "Choose a person or a group"),
])
def test_a_name_that_finds_nobody_asks_nobody_and_says_so(app: Flask, form: dict[str, str], status: int,
                                                         shown: str) -> None:
    admin = signed_in(app, ADMIN)

    answer = post(admin, ACTION, form, token_from="/admin")

    assert answer.status_code == status
    page = answer.get_data(as_text=True) if status == 400 else admin.get("/admin").get_data(as_text=True)
    assert shown in page
    assert requests_on_record(app) == []


def test_without_csrf_or_as_someone_else_nothing_is_asked(app: Flask) -> None:
    admin = signed_in(app, ADMIN)
    assert admin.post(ACTION, data={"kind": "person", "name": "bob"}).status_code == 400   # no CSRF token

    other = signed_in(app, NOT_ADMIN)
    assert post(other, ACTION, {"kind": "person", "name": "bob"}).status_code == 403

    assert requests_on_record(app) == [] and requested(app) == set()
