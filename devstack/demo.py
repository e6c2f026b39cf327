"""`python -m devstack demo [--directory ad]`: the whole dev stack and the portal, until Ctrl-C.

Starts the directory, the OpenID Connect provider, the mail and SMS sinks and the portal (gunicorn
with deploy/gunicorn.conf.py, as in production),
with their state and logs under .devstack/demo/ (or .devstack/demo-ad/). The directory is slapd
seeded with the demo people (config/demo.toml), or with `--directory ad` a Samba Active Directory
domain controller with the same people, nested groups, a protected group, a delegated service
account and fine-grained password policies (devstack/samba.py), which the portal reaches over
LDAPS with the DC's own CA (config/demo-ad.toml).

The ports are the DEMO ones of devstack/ports.py: the documented ones, or those of the slot
DEVSTACK_DEMO_SLOT names. A slot other than 0 also gets its own state folder and database, and the
portal is told the moved addresses through PORTAL_* variables; slot 0 runs the settings file as is.

SIGINT or SIGTERM stops everything it started, in reverse order; every child runs in its own
process group and is stopped as a group, so nothing is left behind.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import FrameType

from devstack import people, samba
from devstack.gunicorn import portal_server
from devstack.mailsink import MailSink, summary
from devstack.oidc_provider import AccountSource, OidcProvider, active_directory_accounts, openldap_accounts
from devstack.ports import DEMO, Ports, demo_slot
from devstack.process import ManagedProcess, ServerFailed
from devstack.restartable import RestartableServer
from devstack.slapd import Slapd
from devstack.smssink import SmsSink, Text
from devstack.smssink import summary as text_summary

REPO = Path(__file__).resolve().parent.parent
FLASK = REPO / ".venv" / "bin" / "flask"
DEMO_WORKERS = 1   # in-process rate limits: see portal_process
DEMO_THREADS = 8
OPENLDAP = "openldap"
ACTIVE_DIRECTORY = "ad"


@dataclass(frozen=True)
class Demo:
    """Which directory, on which ports, with which state folder and settings file."""

    directory: str
    ports: Ports
    slot: int

    @property
    def name(self) -> str:
        """demo, demo-ad, demo-3, demo-ad-3: the state folder and the database file."""
        base = "demo" if self.directory == OPENLDAP else "demo-ad"
        return f"{base}-{self.slot}" if self.slot else base

    @property
    def state(self) -> Path:
        return REPO / ".devstack" / self.name

    @property
    def config(self) -> str:
        return "config/demo.toml" if self.directory == OPENLDAP else "config/demo-ad.toml"

    @property
    def samba_dir(self) -> Path:
        return self.state / "samba"

    def placed_settings(self) -> dict[str, str]:
        """The settings that follow the ports and the state folder, as PORTAL_* variables.

        For slot 0 they are exactly what the settings file says (tests/devstack/test_demo_ad.py holds the
        files to that), so they are only passed to a portal on another slot."""
        placed = {"PORTAL_BASE_URL": self.ports.portal_url,
                  "PORTAL_HOSTS__LOCALHOST__BASE_URL": self.ports.second_portal_url,
                  "PORTAL_OIDC__ISSUER": self.ports.issuer, "PORTAL_MAIL__PORT": str(self.ports.smtp),
                  "PORTAL_SMS__WEBHOOK__URL": self.ports.sms_url,
                  "PORTAL_DATABASE__URL": f"sqlite:///instance/{self.name}.db"}
        if self.directory == OPENLDAP:
            return placed | {"PORTAL_DIRECTORY__URL": self.ports.ldap_url}
        ca_file = samba.SambaDC(self.ports.samba_address, self.samba_dir).ca_file
        return placed | {"PORTAL_DIRECTORY__URL": f"ldaps://{self.ports.samba_address}",
                         "PORTAL_DIRECTORY__CA_FILE": str(ca_file.relative_to(REPO))}

    def portal_environ(self) -> dict[str, str]:
        return {"PORTAL_CONFIG": self.config, **(self.placed_settings() if self.slot else {})}


def demo_for(directory: str) -> Demo:
    return Demo(directory, DEMO, demo_slot())


class Stopped(BaseException):
    """SIGINT or SIGTERM arrived: unwind and stop every server.

    A BaseException, like KeyboardInterrupt, so readiness probes that swallow Exception cannot
    swallow a stop request.
    """


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    # A second Ctrl-C while servers are stopping must not cut the cleanup short.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Stopped(signal.Signals(signum).name)


def portal_process(demo: Demo) -> ManagedProcess:
    """The portal under gunicorn with deploy/gunicorn.conf.py, as production runs it.

    Its database is brought to the latest schema first, as on every real start; the demo's
    administrator gets her security info (devstack/seed.py), and the people are counted for
    reports and audiences (production runs that on a timer). One worker process with threads:
    the demo keeps its embedded defaults (SQLite, rate limits counted in memory), and in-memory
    limits and code budgets hold only inside one process (a second worker would count its own);
    the threads serve the few demo visitors at once, waits of the reset floor included."""
    environ = demo.portal_environ()
    for command in ([str(FLASK), "--app", "wsgi", "store", "upgrade"], [sys.executable, "-m", "devstack.seed"],
                    [str(FLASK), "--app", "wsgi", "reports", "refresh"]):
        subprocess.run(command, cwd=REPO, check=True, env={**os.environ, **environ})
    # gunicorn's control socket in the demo's state folder, not in ~/.gunicorn beside other servers'
    return portal_server("portal", demo.ports.portal, {**environ, "XDG_RUNTIME_DIR": str(demo.state)},
                         demo.state / "portal.log", workers=DEMO_WORKERS, threads=DEMO_THREADS)


@dataclass(frozen=True)
class StartedDirectory:
    server: RestartableServer
    accounts: AccountSource
    description: str      # the banner's Directory line
    people: list[str]     # the banner's account lines
    to_try: str           # what to try that shows this directory's behaviour ("" for none)


def _account_line(person: people.Person, groups: list[str]) -> str:
    return f"  {person.username:<8} {person.password:<18} {', '.join(groups)}"


def _start_slapd(demo: Demo, stack: ExitStack) -> StartedDirectory:
    slapd = stack.enter_context(Slapd(demo.ports, demo.state / "slapd"))
    return StartedDirectory(slapd, openldap_accounts(slapd.url), demo.ports.ldap_url,
                            [_account_line(p, list(p.groups)) for p in people.PEOPLE], "")


def _start_samba(demo: Demo, stack: ExitStack) -> StartedDirectory:
    dc = stack.enter_context(samba.SambaDC(demo.ports.samba_address, demo.samba_dir))
    check = " ".join(f"{key}={value}" for key, value in demo.portal_environ().items())
    return StartedDirectory(
        dc, active_directory_accounts(dc),
        f"Active Directory (Samba AD DC, realm {dc.realm}) at {dc.url}\n"
        f"               CA {dc.ca_file.relative_to(REPO)}, certificate name {dc.tls_name}",
        [_account_line(p, samba.memberships(p)) for p in samba.DEMO_PEOPLE],
        "Try Active Directory's rules:\n"
        "  - reset alice at /reset (the code goes to alice.private@mail.example): a new password of\n"
        "    lower-case letters and spaces only breaks the domain's complexity rule, said in plain words\n"
        f"  - {samba.LOCKOUT_THRESHOLD} wrong passwords at the sign-in page lock an account;"
        " /reset then offers to unlock it\n"
        f"  - /change refuses your last {samba.HISTORY} passwords (the domain's history)\n"
        f"  - frank is in {people.PROTECTED_GROUP}: /reset treats him like an unknown name\n"
        "  - erin is an administrator only through the nested group it-admins\n"
        f"  - the service account's rights: {check} .venv/bin/flask --app wsgi directory check\n\n")


def _print_mail(message: EmailMessage) -> None:
    print(f"  {summary(message)}", flush=True)


def _print_text(text: Text) -> None:
    print(f"  {text_summary(text)}", flush=True)


def banner(demo: Demo, directory: StartedDirectory, provider: OidcProvider, sink: MailSink, texts: SmsSink) -> str:
    accounts = "\n".join(directory.people)
    return (f"\nPortal:        {demo.ports.portal_url}\n"
            f"Second host:   {demo.ports.second_portal_url} (neutral theme; signs in on its own)\n"
            f"OIDC provider: {provider.issuer}\n"
            f"Directory:     {directory.description}\n"
            f"Mail (SMTP 127.0.0.1:{demo.ports.smtp}) lands in {sink.maildir}\n"
            f"SMS (webhook {texts.url}) lands in {texts.folder}\n"
            f"Logs:          {demo.state}/\n\n"
            f"Demo accounts (username, password, groups):\n{accounts}\n"
            f"{people.DEMO_ADMIN} opens /admin at once (the header links to it); her authenticator key,"
            f" for any TOTP app: {people.DEMO_ADMIN_AUTHENTICATOR_KEY}\n\n"
            f"{directory.to_try}"
            "Press Ctrl-C to stop everything.\n")


def run(directory: str = OPENLDAP) -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop_on_signal)
    demo = demo_for(directory)
    start_directory = _start_samba if directory == ACTIVE_DIRECTORY else _start_slapd
    try:
        with ExitStack() as stack:
            print("Starting the directory, the OIDC provider, the mail and SMS sinks and the portal...", flush=True)
            started = start_directory(demo, stack)
            provider = stack.enter_context(OidcProvider(demo.ports.oidc, demo.state / "oidc", started.accounts))
            sink = stack.enter_context(MailSink(demo.ports.smtp, demo.state / "mail", on_message=_print_mail))
            texts = stack.enter_context(SmsSink(demo.ports.sms, demo.state / "sms", on_text=_print_text))
            portal = stack.enter_context(portal_process(demo))
            print(banner(demo, started, provider, sink, texts), flush=True)
            while True:
                time.sleep(0.5)
                for child in (portal, provider.process, started.server.process):
                    if child is not None and not child.running():
                        print(f"{child.name} exited unexpectedly:\n{child.log_tail()}", flush=True)
                        return 1
    except Stopped:
        print("\nStopped; every dev-stack server is down.", flush=True)
        return 0
    except (ServerFailed, subprocess.CalledProcessError) as error:
        print(f"The demo could not start: {error}", flush=True)
        return 1
