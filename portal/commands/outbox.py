"""`flask --app wsgi outbox ...`: deliver queued mail and SMS from a dedicated process or cron."""
from __future__ import annotations

import signal
import threading
from datetime import timedelta

import click
from flask.cli import AppGroup

from ..services.container import collaborators
from ..services.messaging.outbox import ROUND, Outbox

outbox_cli = AppGroup("outbox", help="Mail and SMS waiting to be delivered.")


def _outbox() -> Outbox:
    return collaborators().outbox


@outbox_cli.command("deliver")
def deliver_command() -> None:
    """Deliver what is due now, once (for cron); safe beside other workers."""
    report = _outbox().deliver_due(limit=ROUND)
    click.echo(f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}, "
               f"expired {report.expired}, taken by another worker {report.skipped}")


@outbox_cli.command("run")
def run_command() -> None:
    """Deliver continuously until SIGTERM or Ctrl-C (a systemd service or container)."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("outbox worker running")
    _outbox().run(stop)


@outbox_cli.command("purge")
def purge_command() -> None:
    """Delete delivered and abandoned messages older than [outbox] keep_days."""
    days = collaborators().settings.outbox.keep_days
    click.echo(f"removed {_outbox().purge(timedelta(days=days))} messages")
