"""Waiting, in a CLI command, until the outbox has delivered what the command queued.

The outbox worker (the in-process thread, or `outbox run` elsewhere) does the delivering; a
command that queued mail waits for it so cron sees a run end when its mail is out, and so the
process does not exit under the in-process worker in the middle of an SMTP conversation.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import click

from ..services.container import collaborators

POLL_SECONDS = 0.2
REPORT_EVERY_SECONDS = 5.0


def wait_for_delivery(waiting: Callable[[], int]) -> None:
    """Return once `waiting()` (messages of ours not yet settled) is 0."""
    c = collaborators()
    if c.settings.outbox.in_process_worker:
        c.outbox.wake()  # also delivers what a crashed run had queued
    else:
        click.echo("delivery is left to `flask --app wsgi outbox run` ([outbox] in_process_worker = false)")
    reported = time.monotonic()
    while (left := waiting()) > 0:
        if time.monotonic() - reported >= REPORT_EVERY_SECONDS:
            click.echo(f"waiting for the mail server: {left} messages to go")
            reported = time.monotonic()
        time.sleep(POLL_SECONDS)
