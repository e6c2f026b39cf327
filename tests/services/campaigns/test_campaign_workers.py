"""One campaign delivered by two outbox workers across processes (`flask outbox run`, each its own
process) on one PostgreSQL database into the real SMTP server: each mail arrives exactly once,
and both workers take part."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
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
from portal import PROJECT_ROOT
from portal.services.campaigns import campaigns
from portal.services.container import collaborators
from tests.admin_support import admin_toml, directory_environ, progress_of, refresh_standings
from tests.store_support import postgres_url  # noqa: F401 - fixture

PEOPLE = 400
OU = f"ou=campaign-workers,{BASE_DN}"
# each worker polls every second with two threads of 50-message batches; the sink takes a few
# milliseconds per message, so the campaign outlasts several polls of both workers
OUTBOX = """
[outbox]
in_process_worker = false
poll_seconds = 1
delivery_threads = 2
"""


@pytest.fixture(scope="module")
def four_hundred_people(slapd: Slapd) -> set[str]:
    records = [ldif.entry(OU, {"objectClass": "organizationalUnit", "ou": "campaign-workers"})]
    records += [ldif.entry(f"uid=worker{n:03d},{OU}", {"objectClass": "inetOrgPerson", "uid": f"worker{n:03d}",
                                                       "cn": f"Worker {n}", "sn": "Worker",
                                                       "mail": f"worker{n:03d}@example.test"})
                for n in range(PEOPLE)]
    slapd.apply(ldif.document(records))
    return {f"worker{n:03d}@example.test" for n in range(PEOPLE)}


def sent_by(log: str) -> int:
    """Messages a worker reports as sent in its batch log lines (JSON, one a line)."""
    batches = [json.loads(line) for line in log.splitlines() if '"outbox batch: ' in line]
    return sum(int(batch["sent"]) for batch in batches)


def received(mailbox: MailSink) -> Counter[str]:
    parser = BytesHeaderParser(policy=default)
    return Counter(str(parser.parsebytes(path.read_bytes())["To"]) for path in mailbox.maildir.glob("*.eml"))


def test_one_campaign_sent_by_two_worker_processes_reaches_everyone_exactly_once(
        make_app: Callable[..., Flask], mailbox: MailSink, four_hundred_people: set[str], tmp_path: Path,
        postgres_url: str) -> None:  # noqa: F811 - fixture
    environ = {**directory_environ(OU), "PORTAL_DATABASE__URL": postgres_url}
    app = make_app(admin_toml(tables=OUTBOX), environ=environ)  # tmp_path/portal.toml, read by the workers too
    refresh_standings(app)
    env = {**os.environ, **environ, "PORTAL_CONFIG": str(tmp_path / "portal.toml")}
    mailbox.controller.handler.on_message = lambda _message: time.sleep(0.003)
    workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "run"], cwd=PROJECT_ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    try:
        c = collaborators(app)
        with app.app_context():
            campaign_id = campaigns.create(c, template="available_now", audience="everybody", group=None,
                                           theme="default", by="test")
            assert campaigns.start(c, campaign_id, by="test") == PEOPLE
            assert campaigns.Sender(c).run(campaign_id)  # queued: the two workers deliver it
        deadline = time.monotonic() + 60
        while sum(received(mailbox).values()) < PEOPLE and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.5)  # a duplicate would arrive by now
    finally:
        mailbox.controller.handler.on_message = None
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        logs = [worker.communicate(timeout=30) for worker in workers]
    with app.app_context():
        app.extensions["store"].engine.dispose()

    assert [worker.returncode for worker in workers] == [0, 0], logs
    counts = received(mailbox)
    assert set(counts) == four_hundred_people
    assert [to for to, count in counts.items() if count != 1] == []
    assert progress_of(app, campaign_id) == campaigns.Progress(total=PEOPLE, pending=0, waiting=0, delivered=PEOPLE,
                                                               failed=0, unrecorded=0)
    per_worker = [sent_by(out + err) for out, err in logs]
    assert sum(per_worker) == PEOPLE and all(per_worker), per_worker  # both took part
