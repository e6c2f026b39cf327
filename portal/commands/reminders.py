"""`flask --app wsgi reminders expiry`: mail people whose password expires soon (daily, from cron)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..services.campaigns.expiry_reminders import send_reminders, undelivered
from ..services.container import collaborators
from .delivery import wait_for_delivery
from .failures import directory_needed

reminders_cli = AppGroup("reminders", help="Reminder mails.")


@reminders_cli.command("expiry")
@directory_needed
def expiry_command() -> None:
    """Remind people whose directory password expires within [expiry_reminders] within_days.

    Safe to run more than once a day: each person gets at most one reminder per day."""
    c = collaborators()
    run = send_reminders(c)
    click.echo(f"{run.expiring} passwords expire within {c.settings.expiry_reminders.within_days} days: "
               f"{run.queued} reminders queued, {run.already} already reminded today, "
               f"{run.no_address} without a mail address")
    if run.queued:
        wait_for_delivery(lambda: undelivered(c))
