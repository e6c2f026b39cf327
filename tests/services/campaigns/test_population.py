"""The standings that reports and audiences count: `reports refresh` over the real slapd, and the
incremental update after a registration change, on SQLite and on PostgreSQL."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from devstack import ldif
from devstack.people import BASE_DN
from devstack.slapd import Slapd
from portal import clock
from portal.adapters.directory import directory_for
from portal.services.campaigns import campaigns
from portal.services.container import collaborators
from portal.services.proofs import security_info
from portal.services.registration import steps
from portal.services.reporting import reports
from portal.services.reporting.date_range import DateRange
from portal.store import get_store
from portal.store.campaigns import Campaign
from portal.store.standings import PersonStanding
from tests.admin_support import admin_app, directory_environ, refresh_standings  # noqa: F401
from tests.store_support import postgres_url  # noqa: F401 - fixture

SERIAL = itertools.count(clock.timestamp())
PILOT = f"cn=sspr-pilot,ou=groups,{BASE_DN}"


def person(dn: str, name: str) -> str:
    return ldif.entry(dn, {"objectClass": "inetOrgPerson", "uid": name, "cn": name, "sn": "Standing",
                           "mail": f"{name}@example.test"})


@pytest.fixture
def people(slapd: Slapd) -> tuple[str, list[str]]:
    """A fresh subtree per test with pop-a (in the pilot group), pop-b and pop-c: tests change it."""
    serial = next(SERIAL)
    ou = f"ou=standings-{serial},{BASE_DN}"
    names = [f"pop{serial}-{letter}" for letter in "abc"]
    slapd.apply(ldif.document([ldif.entry(ou, {"objectClass": "organizationalUnit", "ou": f"standings-{serial}"}),
                               *(person(f"uid={name},{ou}", name) for name in names),
                               ldif.modify(PILOT, add={"member": f"uid={names[0]},{ou}"})]))
    return ou, names


@pytest.fixture(params=["sqlite", "postgresql"])
def environ(request: pytest.FixtureRequest, people: tuple[str, list[str]]) -> dict[str, str]:
    """The test's subtree, on each store (SQLite: the test's own file, the same for every app it builds)."""
    found = directory_environ(people[0])
    if request.param == "postgresql":
        found["PORTAL_DATABASE__URL"] = request.getfixturevalue("postgres_url")
    return found


@pytest.fixture
def app(admin_app: Callable[..., Flask], environ: dict[str, str]) -> Flask:
    return admin_app(environ=environ)


def coverage(app: Flask, group: str | None = None) -> tuple[int, int]:
    """(in scope, registered) today."""
    with app.app_context():
        [table] = reports.tables(collaborators(app), DateRange.parse(None, None), group, ["coverage"]).values()
    _day, in_scope, registered, _share = table.rows[-1]
    assert isinstance(in_scope, int) and isinstance(registered, int)
    return in_scope, registered


def register(app: Flask, login: str) -> None:
    with app.app_context(), get_store().transaction() as db:
        user = directory_for().find_user(login)
        assert user is not None
        security_info.save_method(db, user, "email", destination=f"{login}.private@mail.example")


def test_nothing_is_counted_before_the_first_refresh_and_the_pages_say_so(app: Flask) -> None:
    assert coverage(app) == (0, 0)
    with app.app_context():
        c = collaborators(app)
        assert reports.page(c, DateRange.parse(None, None), names=["methods"]).refreshed_at is None
        campaign_id = campaigns.create(c, template="coming_soon", audience="everybody", group=None,
                                       theme="default", by="it-admin")
        with pytest.raises(campaigns.CampaignError, match="reports refresh"):
            campaigns.start(c, campaign_id, by="it-admin")
    assert "3 people, 0 removed" in refresh_standings(app)
    assert coverage(app) == (3, 0)


def test_a_refresh_counts_who_joined_who_left_and_group_changes(app: Flask, slapd: Slapd,
                                                                 people: tuple[str, list[str]]) -> None:
    ou, (a, b, c) = people
    refresh_standings(app)
    assert coverage(app, "sspr-pilot") == (1, 0)
    slapd.apply(ldif.document([person(f"uid={c}-new,{ou}", f"{c}-new"),
                               ldif.modify(PILOT, add={"member": f"uid={b},{ou}"})]))
    slapd.apply(f"dn: uid={c},{ou}\nchangetype: delete\n")
    assert coverage(app) == (3, 0)                         # unchanged until the next refresh
    assert "3 people, 1 removed" in refresh_standings(app)
    assert coverage(app) == (3, 0)
    assert coverage(app, "SSPR-Pilot") == (2, 0)           # pop-a, and pop-b who joined the group
    assert coverage(app, PILOT.upper()) == (2, 0)          # by DN, case aside
    with app.app_context(), get_store().transaction() as db:
        draft = Campaign(template="coming_soon", audience="everybody", group=None, theme="default")
        assert set(db.scalars(campaigns.audience(app.extensions["settings"], draft)
                              .with_only_columns(PersonStanding.login))) == {a, b, f"{c}-new"}


def test_a_registration_change_counts_at_once_without_a_refresh(app: Flask, people: tuple[str, list[str]]) -> None:
    _ou, (a, b, _c) = people
    register(app, a)
    with clock.travel(-timedelta(days=1)):  # the refresh ran yesterday, before b registered
        refresh_standings(app)
    assert coverage(app) == (3, 1)
    register(app, b)
    assert coverage(app) == (3, 1)                          # saved behind the services' back: not yet
    with app.app_context():
        c = collaborators(app)
        user = c.directory.find_user(a)
        assert user is not None
        assert steps.remove(c, steps.Person(user, user.groups), "email", confirmed=True).change is not None
    assert coverage(app) == (3, 0)                          # a's removal counted at once
    with app.app_context():
        c = collaborators(app)
        user = c.directory.find_user(b)
        assert user is not None and steps.confirm(c, steps.Person(user, user.groups)).confirmed
    assert coverage(app) == (3, 1)                          # b's confirmation brought b's row up to date


def test_a_refresh_the_directory_cuts_short_removes_nobody(app: Flask, admin_app: Callable[..., Flask],
                                                           environ: dict[str, str]) -> None:
    refresh_standings(app)
    with app.app_context():
        before = reports.refreshed_at(collaborators(app))
    unreachable = admin_app(environ={**environ, "PORTAL_DIRECTORY__URL": "ldap://127.0.0.1:9",
                                     "PORTAL_DIRECTORY__TIMEOUT_SECONDS": "1"})
    result = unreachable.test_cli_runner().invoke(args=["reports", "refresh"])
    assert result.exit_code == 1 and result.output.startswith("Error: the directory cannot be reached (")
    assert coverage(app) == (3, 0)                          # nobody removed
    with app.app_context():
        assert reports.refreshed_at(collaborators(app)) == before  # the page still shows the last good one
