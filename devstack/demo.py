"""`python -m devstack demo`: the whole dev stack and the portal on the DEMO ports, until Ctrl-C.

Starts slapd (seeded with the demo people), the OpenID Connect provider, the mail sink and the
portal (Flask's server, config/demo.toml), with their state and logs under .devstack/demo/.
SIGINT or SIGTERM stops everything it started, in reverse order; every child runs in its own
process group and is stopped as a group, so nothing is left behind.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import ExitStack
from email.message import EmailMessage
from pathlib import Path
from types import FrameType

import requests

from devstack.mailsink import MailSink, summary
from devstack.oidc_provider import OidcProvider
from devstack.people import PEOPLE
from devstack.ports import DEMO
from devstack.process import ManagedProcess, ServerFailed
from devstack.slapd import Slapd

REPO = Path(__file__).resolve().parent.parent
STATE = REPO / ".devstack" / "demo"
FLASK = REPO / ".venv" / "bin" / "flask"
PORTAL_ENV = {"PORTAL_CONFIG": "config/demo.toml"}


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


def _portal_answers() -> bool:
    return requests.get(f"{DEMO.portal_url}/healthz", timeout=2).status_code == 200


def portal_process() -> ManagedProcess:
    """The portal's database is brought to the latest schema first, as on every real start."""
    subprocess.run([str(FLASK), "--app", "wsgi", "store", "upgrade"], cwd=REPO, check=True,
                   env={**os.environ, **PORTAL_ENV})
    return ManagedProcess(
        "portal", [str(FLASK), "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(DEMO.portal)],
        STATE / "portal.log", _portal_answers, env=PORTAL_ENV, cwd=REPO)


def _print_mail(message: EmailMessage) -> None:
    print(f"  {summary(message)}", flush=True)


def banner(provider: OidcProvider, sink: MailSink) -> str:
    accounts = "\n".join(
        f"  {person.username:<8} {person.password:<18} {', '.join(person.groups)}" for person in PEOPLE)
    return (f"\nPortal:        {DEMO.portal_url}\n"
            f"OIDC provider: {provider.issuer}\n"
            f"Directory:     {DEMO.ldap_url}\n"
            f"Mail (SMTP 127.0.0.1:{DEMO.smtp}) lands in {sink.maildir}\n"
            f"Logs:          {STATE}/\n\n"
            f"Demo accounts (username, password, groups):\n{accounts}\n\n"
            "Press Ctrl-C to stop everything.\n")


def run() -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop_on_signal)
    try:
        with ExitStack() as stack:
            print("Starting the directory, the OIDC provider, the mail sink and the portal...", flush=True)
            stack.enter_context(Slapd(DEMO, STATE / "slapd"))
            provider = stack.enter_context(OidcProvider(DEMO.oidc, STATE / "oidc", DEMO.ldap_url))
            sink = stack.enter_context(MailSink(DEMO.smtp, STATE / "mail", on_message=_print_mail))
            portal = stack.enter_context(portal_process())
            print(banner(provider, sink), flush=True)
            while True:
                time.sleep(0.5)
                for child in (portal, provider.process):
                    if child is not None and not child.running():
                        print(f"{child.name} exited unexpectedly:\n{child.log_tail()}", flush=True)
                        return 1
    except Stopped:
        print("\nStopped; every dev-stack server is down.", flush=True)
        return 0
    except (ServerFailed, subprocess.CalledProcessError) as error:
        print(f"The demo could not start: {error}", flush=True)
        return 1
