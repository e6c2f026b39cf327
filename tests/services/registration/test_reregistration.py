"""IT's "require re-registration": one person or a group's members in scope, each on record with
who asked; their next sign-in asks them to confirm, even when their info is complete; the command
line does the same."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from portal.services.container import collaborators
from portal.services.registration import reregistration
from portal.store.audit import AuditEvent
from tests.registration_support import QUESTIONS, REQUIRED, post, sign_in, status, portal_app, sms_gateway  # noqa: F401

PILOT = {"alice", "bob", "carol", "erin"}   # sspr-pilot in the test directory (dave is staff only)


def asked(app: Flask) -> list[tuple[str | None, Any]]:
    with app.extensions["store"].transaction() as db:
        return [(e.username, e.details) for e in db.scalars(select(AuditEvent).where(
            AuditEvent.event == reregistration.EVENT_REQUESTED).order_by(AuditEvent.id))]


def test_a_person_asked_by_it_confirms_at_next_sign_in_even_with_complete_info(
        portal_app: Callable[..., Flask]) -> None:
    app = portal_app()
    client = app.test_client()
    assert sign_in(client, "alice").headers["Location"] == "/"   # complete from the directory

    with app.app_context():
        done = reregistration.for_person(collaborators(app), "alice", by="erin")

    assert done.logins == ("alice",)
    assert asked(app) == [("alice", {"by": "erin"})]
    assert status(client, "alice")[1]["reason"] == "requested"
    again = app.test_client()
    assert sign_in(again, "alice", next_path="/?next=1").headers["Location"] == REQUIRED
    assert "Your IT department asks you to check your security info again" in again.get(REQUIRED).get_data(
        as_text=True)
    assert post(again, "/register/confirm").headers["Location"] == "/?next=1"
    assert sign_in(app.test_client(), "alice").headers["Location"] == "/"   # asked once, confirmed once


def test_a_group_s_members_in_scope_are_each_asked_and_on_record(portal_app: Callable[..., Flask]) -> None:
    app = portal_app(rollout='reset = "group"\ngroups = ["sspr-pilot"]')

    with app.app_context():
        done = reregistration.for_group(collaborators(app), "sspr-pilot", by="erin")

    assert PILOT <= set(done.logins) and "dave" not in done.logins
    assert asked(app) == [(login, {"by": "erin", "group": "sspr-pilot"}) for login in done.logins]


@pytest.mark.parametrize(("kind", "name", "message"), [
    ("person", "nobody-here", "The directory has no person named 'nobody-here'."),
    ("person", "dave", "dave is outside the rollout, protected or disabled"),
    ("group", "no-such-group", "Nobody in the rollout scope is a member of 'no-such-group'."),
    ("person", "  ", "Give a login name or email of 1 to 256 characters."),
])
def test_nobody_is_asked_when_the_name_finds_nobody_in_scope(
        portal_app: Callable[..., Flask], kind: str, name: str, message: str) -> None:
    app = portal_app(rollout='reset = "group"\ngroups = ["sspr-pilot"]')
    ask = reregistration.for_person if kind == "person" else reregistration.for_group

    with app.app_context(), pytest.raises(reregistration.NotAsked, match=message):
        ask(collaborators(app), name, by="erin")
    assert asked(app) == []


def test_the_command_line_asks_a_person_or_a_group(portal_app: Callable[..., Flask]) -> None:
    app = portal_app(rollout='reset = "group"\ngroups = ["sspr-pilot"]')
    cli = app.test_cli_runner()

    one = cli.invoke(args=["registration", "require-reregistration", "--user", "bob", "--by", "helpdesk-7"])
    group = cli.invoke(args=["registration", "require-reregistration", "--group", "sspr-pilot"])
    neither = cli.invoke(args=["registration", "require-reregistration"])
    nobody = cli.invoke(args=["registration", "require-reregistration", "--user", "nobody-here"])

    assert (one.exit_code, one.output) == (0, "bob: asked to re-register\n1 asked\n")
    assert group.exit_code == 0 and "carol: asked to re-register" in group.output
    assert neither.exit_code == 2 and "exactly one of --user and --group" in neither.output
    assert nobody.exit_code == 1 and "no person named 'nobody-here'" in nobody.output
    records = asked(app)
    assert records[0] == ("bob", {"by": "helpdesk-7"}) and ("carol", {"by": "cli", "group": "sspr-pilot"}) in records
