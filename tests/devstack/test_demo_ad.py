"""`make demo DIRECTORY=ad` run the way a person runs it, then stopped with Ctrl-C.

The demo goes on a demo slot of its own (DEVSTACK_DEMO_SLOT, devstack/ports.py): one past this
test run's test slot, so neither a demo someone is running on the documented ports nor another test
run is disturbed, and nothing here is skipped for a busy port. What it shows is Active Directory's
behaviour through the portal: the provider signs people in with their AD password and counts wrong
ones toward AD's lockout, a reset by email code is refused in plain words for AD's complexity rule,
then sets a password that binds on the DC and unlocks the account, and a protected account is
refused like an unknown name.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from devstack import people
from devstack.demo import ACTIVE_DIRECTORY, OPENLDAP, REPO, Demo
from devstack.mailsink import MailSink
from devstack.oidc_provider import SignInRejected, sign_in
from devstack.ports import DEMO_SLOT_VARIABLE, claim_test_slot, demo_ports
from devstack.samba import LOCKOUT_THRESHOLD, SambaDC
from tests.reset_support import code_sent_to
from tests.support import CSRF_FIELD

SLOT = 1 + claim_test_slot()
NEW_PASSWORD = "Marble kettle, orbit 42 fennel"
BANNER_END = "Press Ctrl-C to stop everything."


# -- the settings files --------------------------------------------------------------------------

def setting(table: dict[str, Any], variable: str) -> str:
    """The value a PORTAL_A__B variable would replace in the parsed settings file."""
    value: Any = table
    for part in variable.removeprefix("PORTAL_").lower().split("__"):
        value = value[part]
    return str(value)


@pytest.mark.parametrize("directory", [OPENLDAP, ACTIVE_DIRECTORY])
def test_the_settings_files_name_the_documented_demo_s_addresses(directory: str) -> None:
    """What a demo on another slot is told by PORTAL_* variables, the files say for slot 0."""
    demo = Demo(directory, demo_ports(0), 0)
    with (REPO / demo.config).open("rb") as handle:
        table = tomllib.load(handle)
    placed = demo.placed_settings()
    assert {variable: setting(table, variable) for variable in placed} == placed


# -- the running demo ----------------------------------------------------------------------------

class RunningCommand:
    """A command in its own process group, as a terminal runs it; its output collected in a thread."""

    def __init__(self, argv: list[str], environ: dict[str, str]) -> None:
        self.process = subprocess.Popen(argv, cwd=REPO, env={**os.environ, **environ}, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            assert self.process.poll() is None, f"exited with {self.process.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} after {timeout} s:\n{self.output}"
            time.sleep(0.1)

    def ctrl_c(self) -> int:
        """SIGINT to the foreground process group, as Ctrl-C in a terminal sends it."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=30)


def _start_time(pid: int) -> str | None:
    """A process's start time (field 22 of /proc/PID/stat), so a reused pid is not taken for it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def descendants(root: int) -> dict[int, str]:
    """Every living process below `root` (whatever its session or process group), with start times."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found and (started := _start_time(pid)) is not None:
                found[pid] = started
                frontier.append(pid)
    return found


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class PortalBrowser:
    """requests.Session used like a browser on the demo portal: pages, their forms, the answers."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.last: requests.Response | None = None

    def get(self, path: str) -> requests.Response:
        self.last = self.session.get(urljoin(self.base_url, path), allow_redirects=False, timeout=15)
        return self.last

    def submit(self, path: str, data: dict[str, str] | None = None,
               form_page: str = "/reset/") -> requests.Response:
        """POST with the CSRF token of `form_page`, as the page's form would."""
        token = CSRF_FIELD.search(self.get(form_page).text)
        assert token, f"no CSRF token on {form_page}"
        self.last = self.session.post(urljoin(self.base_url, path), allow_redirects=False, timeout=15,
                                      data={"csrf_token": token.group(1), **(data or {})})
        return self.last

    def sign_in(self, login: str, password: str) -> requests.Response:
        """The portal's sign-in through the provider's real login form, back to the portal's callback."""
        start = self.get("/signin")
        assert start.status_code == 302, start.text
        return self.get(sign_in(self.session, start.headers["Location"], login, password))

    def set_password(self, password: str) -> requests.Response:
        return self.submit("/reset/password", {"new_password": password, "new_password_again": password})


@pytest.fixture
def ad_demo() -> Iterator[tuple[Demo, RunningCommand]]:
    """`make demo DIRECTORY=ad` on this run's demo slot, from a clean state folder and database;
    Ctrl-C'd afterwards whatever happened (a failing test must not leave the demo running)."""
    demo = Demo(ACTIVE_DIRECTORY, demo_ports(SLOT), SLOT)
    shutil.rmtree(demo.state, ignore_errors=True)
    (REPO / "instance" / f"{demo.name}.db").unlink(missing_ok=True)
    command = RunningCommand(["make", "demo", "DIRECTORY=ad"], {DEMO_SLOT_VARIABLE: str(SLOT)})
    try:
        yield demo, command
    finally:
        if command.process.poll() is None:
            left = descendants(command.process.pid)
            try:
                command.ctrl_c()
            except subprocess.TimeoutExpired:
                for pid in left:
                    os.kill(pid, signal.SIGKILL)
                raise


def test_make_demo_on_active_directory_signs_in_resets_by_email_and_stops_clean(
        ad_demo: tuple[Demo, RunningCommand]) -> None:
    demo, command = ad_demo
    ports, alice = demo.ports, people.person("alice")
    [frank] = people.AD_ONLY_PEOPLE
    mailbox = MailSink(ports.smtp, demo.state / "mail")  # the demo's sink, only read from its folder here
    command.wait_for_output(BANNER_END, timeout=90)
    banner = command.output
    assert f"Portal:        {ports.portal_url}" in banner
    assert f"Active Directory (Samba AD DC, realm EXAMPLE.TEST) at ldaps://{ports.samba_address}" in banner
    assert re.search(r"erin +Erin\.Demo\.2026! +staff, sspr-pilot, portal-admins \(through it-admins\)", banner)
    ready = requests.get(f"{ports.portal_url}/readyz", timeout=15)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["directory"] == "ok"
    started = descendants(command.process.pid)
    assert any("samba" in Path(f"/proc/{pid}/cmdline").read_text() for pid in started)

    # The service account's rights, checked the way the banner says.
    check = subprocess.run([str(REPO / ".venv/bin/flask"), "--app", "wsgi", "directory", "check"], cwd=REPO,
                           env={**os.environ, **demo.portal_environ()}, capture_output=True, text=True,
                           timeout=60, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All required checks passed." in check.stdout
    assert "ok      password policy: minimum length 8, history 3, complexity on, lockout after 3" in check.stdout

    # A protected account walks the same pages as a name nobody has, and no code is ever sent.
    for name in (frank.username, "nobody-by-this-name"):
        walk = PortalBrowser(ports.portal_url)
        assert walk.submit("/reset/", {"identifier": name}).headers["Location"].endswith("/reset/verify")
        assert walk.submit("/reset/verify", {"method": "email"}).headers["Location"].endswith("/reset/code")
        assert walk.get("/reset/code").status_code == 200

    # The provider signs people in with their AD password; AD counts the wrong ones and locks.
    assert PortalBrowser(ports.portal_url).sign_in(alice.username, alice.password).status_code == 302
    for _ in range(LOCKOUT_THRESHOLD):
        with pytest.raises(SignInRejected):
            PortalBrowser(ports.portal_url).sign_in(alice.username, "Not.Her.Password.1")
    with pytest.raises(SignInRejected):
        PortalBrowser(ports.portal_url).sign_in(alice.username, alice.password)  # locked now

    # A reset by email code: AD's complexity refusal in plain words, then a password that works.
    browser = PortalBrowser(ports.portal_url)
    assert browser.submit("/reset/", {"identifier": alice.username}).status_code == 303
    assert browser.submit("/reset/verify", {"method": "email"}).status_code == 303
    code = code_sent_to(mailbox, str(alice.other_mail))
    assert browser.submit("/reset/code", {"code": code}).headers["Location"].endswith("/reset/password")
    assert "Unlock my account" in browser.get("/reset/password").text
    refused = browser.set_password("marble kettle orbit fennel")
    assert refused.status_code == 400 and "too simple" in refused.text
    assert browser.set_password(NEW_PASSWORD).status_code == 200
    dc = SambaDC(ports.samba_address, demo.samba_dir)
    assert dc.binds(dc.person_dn(alice.username), NEW_PASSWORD)  # set, and unlocked
    assert not dc.binds(dc.person_dn(alice.username), alice.password)
    assert PortalBrowser(ports.portal_url).sign_in(alice.username, NEW_PASSWORD).status_code == 302
    assert frank.other_mail not in {m["To"] for m in mailbox.messages()}  # never a code for Frank

    # The administrator, in portal-admins only through it-admins, opens /admin at once (devstack/seed.py).
    erin = PortalBrowser(ports.portal_url)
    assert erin.sign_in(people.DEMO_ADMIN, people.person(people.DEMO_ADMIN).password).headers["Location"] == "/"
    assert erin.get("/admin").status_code == 200

    # Ctrl-C: make reports the interrupt; the demo says it stopped, and nothing it started is left.
    assert command.ctrl_c() == -signal.SIGINT
    assert "Stopped; every dev-stack server is down." in command.output
    assert not [pid for pid, start in started.items() if _start_time(pid) == start]
    for host, port in (("127.0.0.1", ports.portal), ("127.0.0.1", ports.oidc), ("127.0.0.1", ports.smtp),
                       (ports.samba_address, 636), (ports.samba_address, 389)):
        assert not answers(host, port), (host, port)
