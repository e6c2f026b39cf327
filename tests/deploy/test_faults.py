"""What the deployed portal does when what it depends on fails: a clear page, nothing lost, and it
recovers by itself.

The cluster here reaches each dependency through something a test may break without touching the
machine's servers: Redis is a private redis-server of its own, PostgreSQL and the directory sit
behind relays (devstack/faults.py) that can be cut or slowed, and the identity provider is a
private one that can be stopped.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from devstack.faults import SilencingRelay
from devstack.mailsink import MailSink
from devstack.oidc_provider import OidcProvider, openldap_accounts
from devstack.ports import TEST
from devstack.process import ManagedProcess
from devstack.slapd import Slapd
from tests.deploy.conftest import Cluster, start_cluster, stop_cluster, visitor
from tests.reset_support import NEW_PASSWORD, Browser, SlapdStack, code_sent_to
from tests.store_support import throwaway_database
from tests.support import CSRF_FIELD

REDIS_PORT = TEST.portal + 5
OIDC_PORT = TEST.oidc + 3  # +1 and +2 are devstack.fixtures' other providers
DIRECTORY_TIMEOUT = 2  # seconds; the slow directory answers after 5


def private_redis(folder: Path) -> ManagedProcess:
    def answers() -> bool:
        return bool(redis.Redis(port=REDIS_PORT, socket_timeout=1).ping())

    folder.mkdir(parents=True, exist_ok=True)
    return ManagedProcess("redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", str(folder)],
                          folder / "redis.log", answers)


@dataclass
class Fragile:
    cluster: Cluster
    redis: ManagedProcess
    database: SilencingRelay
    directory: SilencingRelay
    provider: OidcProvider

    def visitor(self) -> Browser:
        return visitor(self.cluster)


@pytest.fixture(scope="module")
def fragile(tmp_path_factory: pytest.TempPathFactory, slapd: Slapd, mail_sink: MailSink) -> Iterator[Fragile]:
    folder = tmp_path_factory.mktemp("fragile")
    with (throwaway_database() as database_url, private_redis(folder / "redis") as limits,
          SilencingRelay(("127.0.0.1", 5432)) as database, SilencingRelay(("127.0.0.1", TEST.ldap)) as directory,
          OidcProvider(OIDC_PORT, folder / "oidc", openldap_accounts(slapd.url)) as provider):
        cluster = start_cluster(folder, database_url.replace(":5432/", f":{database.port}/"),
                                f"redis://127.0.0.1:{REDIS_PORT}/0",
                                {"PORTAL_DIRECTORY__URL": f"ldap://127.0.0.1:{directory.port}",
                                 "PORTAL_DIRECTORY__TIMEOUT_SECONDS": str(DIRECTORY_TIMEOUT),
                                 "PORTAL_OIDC__ISSUER": provider.issuer})
        try:
            yield Fragile(cluster, limits, database, directory, provider)
        finally:
            stop_cluster(cluster)


def csrf_token(browser: Browser, page: str) -> str:
    match = CSRF_FIELD.search(text(browser.get(page)))
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def mails_to_person(mailbox: MailSink, address: str) -> int:
    return len([m for m in mailbox.messages() if m["To"] == address])


def text(answer: Any) -> str:
    return str(answer.get_data(as_text=True))


def test_limits_storage_down_refuses_limited_steps_and_the_rest_works(fragile: Fragile) -> None:
    browser = fragile.visitor()
    fragile.redis.stop()
    try:
        assert browser.get("/").status_code == 200
        assert browser.get("/reset/").status_code == 200
        refused = browser.identify("someone")
        assert refused.status_code == 503 and "can't be done right now" in text(refused).replace("&#39;", "'")
        assert browser.get("/signin").status_code == 503
    finally:
        fragile.redis.start()
    assert browser.identify("someone").status_code == 303  # back by itself, counting again


def test_database_down_gives_503_pages_writes_nothing_and_recovers(fragile: Fragile, stack: SlapdStack,
                                                                  mailbox: MailSink) -> None:
    browser, person = fragile.visitor(), stack.add_person()
    assert browser.identify(person.login).status_code == 303
    choice = {"csrf_token": csrf_token(browser, "/reset/verify"), "method": "email"}
    fragile.database.cut()
    try:
        down = browser.client.post("/reset/verify", data=choice)
        assert down.status_code == 503 and "cannot reach its records" in text(down)
        assert fragile.visitor().get("/").status_code == 200  # pages that need no records still work
    finally:
        fragile.database.restore()
    assert fragile.cluster.outbox_drained() and not mails_to_person(mailbox, person.alternate_email)
    assert browser.choose("email").status_code == 303  # the flow is where it was: no code was sent
    code = code_sent_to(mailbox, person.alternate_email)
    assert browser.enter_code(code).status_code == 303

    form = {"csrf_token": csrf_token(browser, "/reset/password"), "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD}
    fragile.database.cut()
    try:
        assert browser.client.post("/reset/password", data=form).status_code == 503
    finally:
        fragile.database.restore()
    assert stack.binds(person, person.password)  # nothing was written to the directory
    assert browser.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)


def test_identity_provider_down_shows_sign_in_unavailable(fragile: Fragile) -> None:
    browser = fragile.visitor()
    assert [browser.get("/signin").status_code for _ in fragile.cluster.instances] == [302, 302]
    fragile.provider.stop()
    try:
        answers = [browser.get("/signin") for _ in fragile.cluster.instances]  # each instance once
        assert [a.status_code for a in answers] == [503, 503]
        assert all("Sign-in is not available right now" in text(a) for a in answers)
    finally:
        fragile.provider.start()
    assert browser.get("/signin").status_code == 302


def test_a_slow_directory_ends_requests_in_seconds_and_workers_stay_free(fragile: Fragile,
                                                                          stack: SlapdStack) -> None:
    people = [stack.add_person() for _ in range(6)]
    fragile.directory.delay_answers(5)
    answers: dict[str, Any] = {}

    def identify(login: str) -> None:
        answers[login] = fragile.visitor().identify(login)

    threads = [threading.Thread(target=identify, args=(p.login,)) for p in people]
    try:
        for thread in threads:
            thread.start()
        landing = fragile.visitor().get("/")  # served while six slow requests are in flight
        for thread in threads:
            thread.join(30)
    finally:
        fragile.directory.delay_answers(0)
    assert landing.status_code == 200
    assert [a.status_code for a in answers.values()] == [503] * 6
    assert all("directory" in text(a).lower() for a in answers.values())
    assert fragile.visitor().identify(people[0].login).status_code == 303
