"""deploy/systemd/: the units parse (systemd-analyze verify), stay hardened, and run what they say.

systemd is not the init process here, so the units are not started by systemd: `systemd-analyze
verify` (Debian's systemd package) parses them with their shared drop-in exactly as systemd would
and checks that each command is executable, on a copy whose install folder is this repository; the
commands themselves are then run the way the units run them (same folder, same environment
variables, same arguments).
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import requests
from flask import Flask

from devstack.mailsink import MailSink
from devstack.ports import TEST
from devstack.process import ManagedProcess
from devstack.slapd import Slapd
from portal import PROJECT_ROOT
from tests.support import MAIL_TOML

UNITS = PROJECT_ROOT / "deploy" / "systemd"
DROP_IN = UNITS / "portal-.service.d" / "portal.conf"
INSTALL = "/opt/portal"        # where the units expect the release
FLASK_APP = ["--app", "wsgi"]
WEB_INSTANCE = "portal-web@8000.service"
MOST_EXPOSED = 2.0             # `systemd-analyze security`: up to 2 is "OK"


@dataclass(frozen=True)
class Unit:
    path: Path
    sections: dict[str, list[tuple[str, str]]]

    @property
    def name(self) -> str:
        return self.path.name

    def values(self, section: str, key: str) -> list[str]:
        return [value for k, value in self.sections.get(section, []) if k == key]

    def value(self, section: str, key: str) -> str:
        found = self.values(section, key)
        assert len(found) == 1, f"{self.name}: [{section}] {key} given {len(found)} times"
        return found[0]


LINE = re.compile(r"^(?P<key>[A-Za-z]+)=(?P<value>.*)$")


def parse(path: Path) -> Unit:
    """The unit's sections and keys in order (a key may repeat: ExecStart of a oneshot)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        match = LINE.match(line)
        assert match and current is not None, f"{path.name}:{number}: not a key=value line in a section"
        current.append((match["key"], match["value"]))
    return Unit(path, sections)


SERVICES = [parse(p) for p in sorted(UNITS.glob("*.service"))]
TIMERS = [parse(p) for p in sorted(UNITS.glob("*.timer"))]
COMMON = parse(DROP_IN)


def instance_name(unit: Unit) -> str:
    return WEB_INSTANCE if unit.name.endswith("@.service") else unit.name


def rendered(tmp_path: Path) -> Path:
    """A copy of deploy/systemd/ installed from this repository instead of /opt/portal."""
    copy = tmp_path / "systemd"
    shutil.copytree(UNITS, copy)
    for path in copy.rglob("*"):
        if path.is_file():
            path.write_text(path.read_text().replace(INSTALL, str(PROJECT_ROOT)))
    return copy


def analyze(*args: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60,
                          cwd=folder, env={**os.environ, "SYSTEMD_UNIT_PATH": f"{folder}:"})


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    folder = rendered(tmp_path)
    names = [str(folder / instance_name(u)) for u in SERVICES] + [str(folder / u.name) for u in TIMERS]
    result = analyze("verify", *names, folder=folder)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_a_mistake_in_the_shared_drop_in_is_caught(tmp_path: Path) -> None:
    """verify really reads portal-.service.d/ (else the check above proves little)."""
    folder = rendered(tmp_path)
    drop_in = folder / DROP_IN.relative_to(UNITS)
    drop_in.write_text(drop_in.read_text() + "ProtectSytem=strict\n")
    result = analyze("verify", str(folder / "portal-outbox.service"), folder=folder)
    assert "Unknown key 'ProtectSytem'" in result.stderr


@pytest.mark.parametrize("unit", SERVICES, ids=lambda u: u.name)
def test_every_service_is_hardened(tmp_path: Path, unit: Unit) -> None:
    result = analyze("security", "--offline=true", instance_name(unit), folder=rendered(tmp_path))
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert level, result.stdout + result.stderr
    assert float(level[1]) <= MOST_EXPOSED


def test_every_service_gets_the_shared_settings() -> None:
    """The drop-in applies to names starting with "portal-"; it sets who, where and which environment."""
    assert all(u.name.startswith("portal-") for u in SERVICES + TIMERS)
    assert COMMON.value("Service", "User") == "portal"
    assert COMMON.value("Service", "WorkingDirectory") == INSTALL
    assert COMMON.value("Service", "EnvironmentFile") == "/etc/portal/portal.env"
    for option in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert COMMON.value("Service", option) == "yes"
    assert COMMON.value("Service", "ProtectSystem") == "strict"
    for unit in SERVICES:  # nothing a unit says may undo them
        assert not {key for key, _ in unit.sections.get("Service", [])} & {
            key for key, _ in COMMON.sections["Service"]}, unit.name


def test_each_timer_starts_a_oneshot_service_and_each_oneshot_has_a_timer() -> None:
    oneshots = {u.name for u in SERVICES if u.value("Service", "Type") == "oneshot"}
    timed = {t.name.removesuffix(".timer") + ".service" for t in TIMERS}
    assert oneshots == timed
    for timer in TIMERS:
        assert timer.value("Timer", "Persistent") == "true"
        assert timer.value("Install", "WantedBy") == "timers.target"
        calendar = subprocess.run(["systemd-analyze", "calendar", timer.value("Timer", "OnCalendar")],
                                  capture_output=True, text=True, timeout=30)
        assert calendar.returncode == 0, calendar.stderr
    assert {u.name for u in SERVICES if "Install" in u.sections} == {"portal-web@.service", "portal-outbox.service"}


def commands(unit: Unit) -> list[list[str]]:
    return [shlex.split(line) for line in unit.values("Service", "ExecStart")]


FLASK_COMMANDS = [(unit.name, argv) for unit in SERVICES for argv in commands(unit)
                  if argv[0] == f"{INSTALL}/.venv/bin/flask"]


def test_the_periodic_jobs_and_the_worker_are_the_readme_commands() -> None:
    run = {" ".join(argv[3:]) for _, argv in FLASK_COMMANDS}
    assert run == {"outbox run", "reminders expiry", "store purge-sessions", "registration purge-codes",
                   "outbox purge", "reports refresh"}


@pytest.mark.parametrize(("unit", "argv"), FLASK_COMMANDS, ids=[" ".join(a[3:]) for _, a in FLASK_COMMANDS])
def test_every_command_a_unit_runs_exists(make_app: Callable[..., Flask], unit: str, argv: list[str]) -> None:
    assert argv[1:3] == FLASK_APP
    group_name, command_name, *rest = argv[3:]
    assert rest == []
    group = make_app().cli.commands.get(group_name)
    assert isinstance(group, click.Group), f"{unit}: no command group {group_name}"
    assert command_name in group.commands, f"{unit}: no command {group_name} {command_name}"


def unit_environ(unit: Unit, settings: Path, port: int) -> dict[str, str]:
    """Environment= of the unit (instance = `port`) and of the environment file's PORTAL_CONFIG."""
    environ = {"PORTAL_CONFIG": str(settings)}
    for assignment in unit.values("Service", "Environment"):
        name, _, value = assignment.partition("=")
        environ[name] = value.replace("%i", str(port))
    return environ


def as_run_here(argv: list[str], tmp_path: Path, port: int) -> list[str]:
    """The unit's command with /opt/portal = this repository and /run/... in a temporary folder."""
    line = shlex.join(argv).replace(INSTALL, str(PROJECT_ROOT)).replace("%i", str(port))
    return [part.replace("/run/", f"{tmp_path}/run/") for part in shlex.split(line)]


def flask(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "flask"), *FLASK_APP, *args], cwd=PROJECT_ROOT,
                          env={**os.environ, **environ}, capture_output=True, text=True, timeout=120)


def eventually(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def by_name(name: str) -> Unit:
    return next(u for u in SERVICES if u.name == name)


def test_the_web_unit_runs_gunicorn_as_written(settings_file: Callable[[str], Path], slapd: Slapd,
                                               tmp_path: Path) -> None:
    unit = by_name("portal-web@.service")
    environ = unit_environ(unit, settings_file(""), TEST.portal)
    assert environ["PORTAL_BIND"] == f"127.0.0.1:{TEST.portal}"
    assert flask("store", "upgrade", environ=environ).returncode == 0
    runtime = tmp_path / "run" / f"portal-web-{TEST.portal}"
    runtime.mkdir(parents=True)  # RuntimeDirectory=
    [argv] = commands(unit)

    def ready() -> bool:
        return requests.get(f"{TEST.portal_url}/readyz", timeout=2).status_code == 200

    with ManagedProcess("portal-web", as_run_here(argv, tmp_path, TEST.portal), tmp_path / "web.log", ready,
                        env=environ, cwd=PROJECT_ROOT):
        assert eventually((runtime / "gunicorn.ctl").is_socket)  # the master opens it after the workers
        assert requests.get(f"{TEST.portal_url}/", timeout=5).status_code == 200


def test_the_outbox_worker_runs_until_sigterm(settings_file: Callable[[str], Path], tmp_path: Path) -> None:
    unit = by_name("portal-outbox.service")
    environ = unit_environ(unit, settings_file(MAIL_TOML + "\n[outbox]\nin_process_worker = false\n"), TEST.portal)
    assert flask("store", "upgrade", environ=environ).returncode == 0
    log = tmp_path / "outbox.log"

    def running() -> bool:
        return "outbox worker running" in log.read_text()

    [argv] = commands(unit)
    worker = ManagedProcess("portal-outbox", as_run_here(argv, tmp_path, TEST.portal), log, running,
                            env=environ, cwd=PROJECT_ROOT)
    with worker:
        assert worker.process is not None
        os.kill(worker.process.pid, signal.SIGTERM)  # what systemctl stop sends
        stop_within = int(unit.value("Service", "TimeoutStopSec"))
        assert worker.process.wait(timeout=stop_within) == 0


@pytest.mark.parametrize("unit", [u for u in SERVICES if u.value("Service", "Type") == "oneshot"],
                         ids=lambda u: u.name)
def test_each_periodic_job_runs(settings_file: Callable[[str], Path], slapd: Slapd, mail_sink: MailSink,
                                tmp_path: Path, unit: Unit) -> None:
    environ = unit_environ(unit, settings_file(MAIL_TOML), TEST.portal)
    assert flask("store", "upgrade", environ=environ).returncode == 0
    for argv in commands(unit):
        done = subprocess.run(as_run_here(argv, tmp_path, TEST.portal), cwd=PROJECT_ROOT, capture_output=True,
                              text=True, env={**os.environ, **environ}, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
