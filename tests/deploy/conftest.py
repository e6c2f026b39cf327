"""The portal as IT deploys it: nginx (deploy/nginx/portal.conf) in front of two gunicorn instances
(deploy/gunicorn.conf.py), each its own process group, on one PostgreSQL database and one Redis.

The cluster is started once per test module. Tests stay independent because each visitor comes
from its own loopback address (nginx passes it on in X-Forwarded-For, so per-IP limits are its
own) and resets its own fresh people; the Redis keys carry a prefix of the module's own and are
deleted at the end. Which instance served a request is read from nginx's access log.
"""
from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
import requests
from requests.adapters import HTTPAdapter

from devstack.gunicorn import portal_server
from devstack.nginx import Nginx, Served
from devstack.ports import TEST
from devstack.process import ManagedProcess
from devstack.slapd import Slapd
from portal import create_app
from portal.settings import load_settings
from portal.store import get_store
from portal.store.migrate import upgrade
from tests.registration_support import DIRECTORY_ENVIRON, registration_toml
from tests.reset_support import PILOT, RESET_TABLES, Browser, SlapdStack
from tests.store_support import throwaway_database
from tests.support import settings_toml

REDIS = "redis://127.0.0.1:6379/0"
HTTP_PORT, HTTPS_PORT = TEST.portal + 1, TEST.portal + 2
INSTANCE_PORTS = (TEST.portal + 3, TEST.portal + 4)
# the limits the tests count across instances; each test spends them on its own IP and people
LIMITS = {"PORTAL_RESET__IDENTIFY_PER_IP_PER_HOUR": "5", "PORTAL_RESET__IDENTIFY_PER_ACCOUNT_PER_HOUR": "2",
          "PORTAL_CODES__PER_ACCOUNT_PER_HOUR": "2", "PORTAL_CODES__PER_DESTINATION_PER_HOUR": "2"}
_visitor_addresses = itertools.count()


def cluster_settings(folder: Path, database_url: str, storage_uri: str, key_prefix: str) -> Path:
    """The instances' settings file: the portal behind one proxy, reached at nginx's HTTPS URL."""
    path = folder / "portal.toml"
    top = settings_toml(database_url, "trusted_proxies = 1", base_url=f"https://127.0.0.1:{HTTPS_PORT}")
    tables = RESET_TABLES + f'\n[rate_limits]\nstorage_uri = "{storage_uri}"\nkey_prefix = "{key_prefix}"\n'
    path.write_text(top + registration_toml("http://127.0.0.1:9", require_registration="false",
                                            rollout=f'reset = "group"\ngroups = ["{PILOT}"]', tables=tables))
    return path


def migrated(settings_path: Path) -> None:
    app = create_app(load_settings(settings_path, {}))
    with app.app_context():
        upgrade(get_store())
        app.extensions["store"].engine.dispose()


@dataclass
class Cluster:
    nginx: Nginx
    instances: tuple[ManagedProcess, ...]
    settings_path: Path
    database_url: str
    key_prefix: str

    def port_of(self, instance: ManagedProcess) -> int:
        return INSTANCE_PORTS[self.instances.index(instance)]

    def instance_on(self, upstream: str) -> ManagedProcess:
        """The instance behind nginx's upstream field (the last one it tried)."""
        port = int(upstream.split(",")[-1].strip().rsplit(":", 1)[1])
        return self.instances[INSTANCE_PORTS.index(port)]

    def served(self, browser: Browser, method: str, path: str, count: int = 1,
               timeout: float = 5.0) -> list[Served]:
        """The `browser`'s `method path` requests so far, oldest first, once at least `count` are
        logged (nginx logs a request just after answering it)."""
        address = browser.client.address  # type: ignore[attr-defined]  # a RemoteClient
        deadline = time.monotonic() + timeout
        while True:
            seen = [line for line in self.nginx.served()
                    if (line.client, line.method, line.path) == (address, method, path)]
            if len(seen) >= count or time.monotonic() > deadline:
                return seen
            time.sleep(0.05)

    def serving(self, browser: Browser, method: str, path: str, count: int = 1) -> list[ManagedProcess]:
        """The instance that answered each of the `browser`'s `method path` requests."""
        return [self.instance_on(line.upstream) for line in self.served(browser, method, path, count)]

    def outbox_drained(self, timeout: float = 10.0) -> bool:
        """True once every queued mail is sent (or given up): the sink then holds all there will be."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with psycopg.connect(self.database_url) as db:
                row = db.execute("SELECT count(*) FROM outbox_messages WHERE payload IS NOT NULL").fetchone()
            if row and row[0] == 0:
                return True
            time.sleep(0.1)
        return False


def start_cluster(folder: Path, database_url: str, storage_uri: str, environ: dict[str, str]) -> Cluster:
    key_prefix = f"pt{uuid.uuid4().hex[:12]}"
    settings_path = cluster_settings(folder, database_url, storage_uri, key_prefix)
    migrated(settings_path)
    env = {"PORTAL_CONFIG": str(settings_path), **DIRECTORY_ENVIRON, **LIMITS, **environ}
    instances = tuple(portal_server(f"portal-{n}", port, env, folder / f"portal-{n}.log", workers=1, threads=8)
                      for n, port in enumerate(INSTANCE_PORTS, start=1))
    nginx = Nginx(folder / "nginx", INSTANCE_PORTS, HTTP_PORT, HTTPS_PORT)
    cluster = Cluster(nginx, instances, settings_path, database_url, key_prefix)
    try:
        for process in (*instances, nginx):
            process.start()
    except BaseException:
        stop_cluster(cluster)  # what did start must not outlive the failure
        raise
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    for process in (cluster.nginx, *cluster.instances):
        process.stop()
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(f"{cluster.key_prefix}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, slapd: Slapd, oidc_provider: Any,
            mail_sink: Any) -> Iterator[Cluster]:
    with throwaway_database() as database_url:
        cluster = start_cluster(tmp_path_factory.mktemp("cluster"), database_url, REDIS, {})
        yield cluster
        stop_cluster(cluster)


class _FromAddress(HTTPAdapter):
    """Connections leave from one loopback address: nginx sees it as the client's."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


class Answer:
    """A requests answer with the two things tests.reset_support.Browser reads of a Flask one."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers

    def get_data(self, as_text: bool = False) -> str | bytes:
        return self.response.text if as_text else self.response.content


class RemoteClient:
    """A browser's HTTP side against nginx: cookies, no redirects followed, its own address."""

    def __init__(self, base_url: str, certificate: Path, address: str) -> None:
        self.base_url = base_url
        self.address = address
        self.certificate = str(certificate)  # per request: REQUESTS_CA_BUNDLE would beat a session's
        self.http = requests.Session()
        self.http.mount("https://", _FromAddress(address))

    def get(self, path: str) -> Answer:
        return Answer(self.http.get(self.base_url + path, allow_redirects=False, timeout=30,
                                    verify=self.certificate))

    def post(self, path: str, data: dict[str, str]) -> Answer:
        # over https the CSRF check wants the same origin in Referer, as a browser sends it
        return Answer(self.http.post(self.base_url + path, data=data, allow_redirects=False, timeout=30,
                                     verify=self.certificate, headers={"Referer": self.base_url + path}))


def visitor(cluster: Cluster) -> Browser:
    """A browser on a loopback address no other visitor of this run uses."""
    address = f"127.0.{10 + next(_visitor_addresses) % 240}.{uuid.uuid4().int % 250 + 2}"
    return Browser(RemoteClient(cluster.nginx.url, cluster.nginx.certificate.cert, address))  # type: ignore[arg-type]


@pytest.fixture
def new_visitor(cluster: Cluster) -> Callable[[], Browser]:
    return lambda: visitor(cluster)


@pytest.fixture
def stack(slapd: Slapd) -> SlapdStack:
    return SlapdStack(slapd)
