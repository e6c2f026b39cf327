"""What one bench population runs on: its slapd, a throwaway PostgreSQL database, the dev provider,
and portals under gunicorn with deploy/gunicorn.conf.py, all on the TEST ports of this process's slot.

The machine's Redis holds the rate limits in a database number of the bench's own; the SMTP sink
is shared by every population of a run (mailbox.py).
"""
from __future__ import annotations

import os
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType

import redis

from devstack.gunicorn import portal_server
from devstack.oidc_provider import OidcProvider, openldap_accounts
from devstack.ports import Ports
from devstack.process import ManagedProcess
from devstack.slapd import Slapd

from . import seed
from .directory import BenchSlapd

REPO = Path(__file__).resolve().parent.parent.parent
FLASK = REPO / ".venv" / "bin" / "flask"
REDIS_DB = 13  # the bench's own Redis database: its keys are removed before each run, nobody else's
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
SECRET_KEY = "bench-only-secret-key-never-use-in-production-0123456789"


def settings_toml(slapd: Slapd, ports: Ports, database_url: str) -> str:
    """config/demo.toml's shape with the bench's servers; limits high enough that no figure hits
    one by accident (the paced figure uses distinct client addresses, as the issue asks)."""
    return f"""# Written by devstack/bench for one run.
base_url = "{ports.portal_url}"
demo = true
log_level = "WARNING"
secret_key = "{SECRET_KEY}"
trusted_proxies = 1

[oidc]
issuer = "{ports.issuer}"
client_id = "portal"
client_secret = "portal-dev-secret"
scopes = ["openid", "email", "profile", "groups"]

[database]
url = "{database_url}"

[rate_limits]
storage_uri = "{REDIS_URL}"

[directory]
kind = "openldap"
url = "{slapd.url}"
allow_plaintext = true
bind_dn = "{slapd.service_dn}"
bind_password = "{slapd.service_password}"
base_dn = "{slapd.people_dn}"
alternate_email_attribute = "mailLocalAddress"

[rollout]
reset = "everybody"

[registration]
directory_methods = ["email"]
admin_groups = ["portal-admins"]
require_registration = false

[admin]
groups = ["portal-admins"]

[codes]
per_account_per_hour = 100
per_destination_per_hour = 100
per_ip_per_hour = 10000

[reset]
identify_per_ip_per_hour = 10000
identify_per_account_per_hour = 1000
verify_per_ip_per_hour = 10000

[campaigns]
messages_per_minute = 1000000  # the queueing figure times the portal, not a pace IT sets

[outbox]
poll_seconds = 1

[mail]
host = "127.0.0.1"
port = {ports.smtp}
security = "none"
from_address = "passwords@example.test"
from_name = "Bench portal"
"""


def clear_rate_limits() -> None:
    """Remove the bench's own counters left by an earlier run (its database number only)."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(count=1000))
    if keys:
        client.delete(*keys)


class Population:
    """One seeded population: `with Population(...) as p:` starts slapd, the store and the provider."""

    def __init__(self, size: int, ports: Ports, workdir: Path) -> None:
        self.size = size
        self.ports = ports
        self.workdir = workdir
        self.people = seed.Population(size)
        self.slapd = BenchSlapd(ports, workdir / "slapd", self.people)
        self.database = f"bench_{os.getpid()}_{size}"
        self.database_url = ""
        self.config_file = workdir / "portal.toml"
        self.seconds_to_seed = 0.0
        self._stack = ExitStack()

    def __enter__(self) -> "Population":
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._stack.enter_context(self.slapd)
            started = time.monotonic()
            self.database_url = seed.create_database(self.database)
            self._stack.callback(seed.drop_database, self.database)
            self.config_file.write_text(settings_toml(self.slapd, self.ports, self.database_url))
            self.flask("store", "upgrade")
            seed.copy_registrations(self.database_url, self.people)
            self.refresh_reports()
            self.seconds_to_seed = self.slapd.seconds_to_seed + time.monotonic() - started
            self._stack.enter_context(OidcProvider(self.ports.oidc, self.workdir / "oidc",
                                                   openldap_accounts(self.slapd.url)))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stack.close()

    @property
    def environ(self) -> dict[str, str]:
        return {"PORTAL_CONFIG": str(self.config_file)}

    def flask(self, *args: str, env: dict[str, str] | None = None,
              timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """`flask --app wsgi ARGS` against this population (`env`: more settings); raises with
        the command's own error output on a non-zero exit."""
        done = subprocess.run([str(FLASK), "--app", "wsgi", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **self.environ, **(env or {})})
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} exited {done.returncode}: {done.stderr[-2000:]}")
        return done

    def has_command(self, group: str, command: str) -> bool:
        listing = subprocess.run([str(FLASK), "--app", "wsgi", group, "--help"], cwd=REPO, capture_output=True,
                                 text=True, timeout=120, env={**os.environ, **self.environ})
        return any(line.split()[:1] == [command] for line in listing.stdout.splitlines())

    def refresh_reports(self) -> None:
        """`reports refresh` (standings kept in the store) where this portal has it."""
        if self.has_command("reports", "refresh"):
            self.flask("reports", "refresh")

    def portal(self, name: str, port: int, *, floor_ms: int = 300, workers: int = 2, threads: int = 32,
               extra: dict[str, str] | None = None, argv: tuple[str, ...] = ()) -> ManagedProcess:
        """A portal on `port` (not started): the production gunicorn config, the bench settings."""
        environ = {**self.environ, "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
                   "PORTAL_RESET__MIN_RESPONSE_MS": str(floor_ms), "PORTAL_ACCESS_LOG": "/dev/null",
                   **(extra or {})}
        return portal_server(name, port, environ, self.workdir / f"{name}.log", workers=workers,
                             threads=threads, argv=argv)
