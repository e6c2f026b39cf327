"""A campaign to 2,000 people through the real SMTP server, its sender killed halfway, then resumed:
everyone gets the mail exactly once.

The kill comes at the worst moment for "exactly once": right after the SMTP server stored a
message and before the sender heard that it did (see the outbox's point of no return)."""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path

import pytest
from flask import Flask

from devstack import ldif
from devstack.mailsink import MailSink
from devstack.people import BASE_DN
from devstack.slapd import Slapd
from portal import PROJECT_ROOT, clock
from portal.services.campaigns import campaigns
from portal.services.container import collaborators
from tests.admin_support import admin_toml, directory_environ, progress_of, refresh_standings

PEOPLE = 2000
OU = f"ou=campaign-load,{BASE_DN}"


@pytest.fixture(scope="module")
def two_thousand_people(slapd: Slapd) -> set[str]:
    """2,000 entries added with one LDIF through ldapadd; their mail addresses."""
    records = [ldif.entry(OU, {"objectClass": "organizationalUnit", "ou": "campaign-load"})]
    records += [ldif.entry(f"uid=load{n:04d},{OU}", {"objectClass": "inetOrgPerson", "uid": f"load{n:04d}",
                                                      "cn": f"Load {n}", "sn": "Load", "mail": f"load{n:04d}@example.test"})
                for n in range(PEOPLE)]
    slapd.apply(ldif.document(records))
    return {f"load{n:04d}@example.test" for n in range(PEOPLE)}


@contextmanager
def kill_when_stored(mailbox: MailSink, count: int, pid: int) -> Iterator[None]:
    """SIGKILL `pid` at the worst moment: the SMTP server has just stored message number `count`
    and has not answered yet, so the sender cannot know it was accepted."""
    handler = mailbox.controller.handler
    stored = itertools.count(1)

    def on_message(_message: EmailMessage) -> None:
        if next(stored) == count:
            os.kill(pid, signal.SIGKILL)

    handler.on_message = on_message
    try:
        yield
    finally:
        handler.on_message = None


def delivered(mailbox: MailSink) -> int:
    return sum(1 for _ in mailbox.maildir.glob("*.eml"))


def recipients(mailbox: MailSink) -> Counter[str]:
    parser = BytesHeaderParser(policy=default)
    return Counter(str(parser.parsebytes(path.read_bytes())["To"]) for path in mailbox.maildir.glob("*.eml"))


def test_a_campaign_killed_halfway_resumes_and_reaches_everyone_exactly_once(
        make_app: Callable[..., Flask], mailbox: MailSink, two_thousand_people: set[str], tmp_path: Path) -> None:
    environ = directory_environ(OU)
    app = make_app(admin_toml(), environ=environ)  # writes tmp_path/portal.toml, which the sender reads too
    refresh_standings(app)
    campaign_id = campaigns.create(collaborators(app), template="available_now", audience="everybody",
                                   group=None, theme="default", by="test")

    with (tmp_path / "sender.log").open("wb") as log:
        sender = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "campaign", "send", str(campaign_id)],
                                  cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, "PORTAL_CONFIG": str(tmp_path / "portal.toml"), **environ})
        with kill_when_stored(mailbox, PEOPLE // 2, sender.pid):
            assert sender.wait(120) == -signal.SIGKILL, (tmp_path / "sender.log").read_text()
    assert delivered(mailbox) == PEOPLE // 2
    assert progress_of(app, campaign_id).total == PEOPLE

    # Resume (here, in-process) once the dead sender's hold on the message it was sending has run out.
    lease = app.extensions["settings"].outbox.lease_seconds
    with clock.travel(timedelta(seconds=lease + 1)):
        result = app.test_cli_runner().invoke(args=["campaign", "send", str(campaign_id)])
    assert result.exit_code == 0, result.output
    assert f"{PEOPLE} recipients, 0 not queued yet, 0 waiting, {PEOPLE} delivered, 0 failed" in result.output

    received = recipients(mailbox)
    assert set(received) == two_thousand_people
    assert [to for to, count in received.items() if count != 1] == []
