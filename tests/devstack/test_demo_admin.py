"""`python -m devstack demo`: its administrator signs in and opens /admin at once, from a fresh state.

The demo seeds what the administrators' policy needs (devstack/seed.py), so erin meets no
registration detour on the way. It runs on this test run's demo slot (see test_demo_ad.py), from a
clean state folder and database, and is Ctrl-C'd afterwards whatever happened.
"""
from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator

import pytest

from devstack import people
from devstack.demo import OPENLDAP, REPO, Demo
from devstack.ports import DEMO_SLOT_VARIABLE, demo_ports
from tests.admin_support import NOT_ADMIN
from tests.devstack.test_demo_ad import BANNER_END, SLOT, PortalBrowser, RunningCommand

LINK = '<a class="admin-link" href="/admin">Administration</a>'


@pytest.fixture
def demo() -> Iterator[tuple[Demo, RunningCommand]]:
    demo = Demo(OPENLDAP, demo_ports(SLOT), SLOT)
    shutil.rmtree(demo.state, ignore_errors=True)
    (REPO / "instance" / f"{demo.name}.db").unlink(missing_ok=True)
    command = RunningCommand([sys.executable, "-m", "devstack", "demo"], {DEMO_SLOT_VARIABLE: str(SLOT)})
    try:
        yield demo, command
    finally:
        if command.process.poll() is None:
            command.ctrl_c()


def test_the_demo_administrator_opens_admin_at_once(demo: tuple[Demo, RunningCommand]) -> None:
    running, command = demo
    command.wait_for_output(BANNER_END, timeout=90)
    assert people.DEMO_ADMIN_AUTHENTICATOR_KEY in command.output   # printed, for an authenticator app
    admin = people.person(people.DEMO_ADMIN)

    erin = PortalBrowser(running.ports.portal_url)
    signed_in = erin.sign_in(admin.username, admin.password)

    assert signed_in.headers["Location"] == "/"   # no "more information required" on the way
    assert LINK in erin.get("/").text
    opened = erin.get("/admin")
    assert opened.status_code == 200 and "Effective settings" in opened.text

    other = PortalBrowser(running.ports.portal_url)
    other.sign_in(NOT_ADMIN, people.person(NOT_ADMIN).password)
    assert "Administration" not in other.get("/").text
    assert command.ctrl_c() == 0 and "Stopped; every dev-stack server is down." in command.output
