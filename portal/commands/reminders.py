"""`flask --app wsgi reminders expiry`: mail people whose password expires soon (daily, from cron)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from ..adapters.directory import directory_for
from ..services.campaigns.expiry_reminders import PURPOSE, send_reminders
from ..services.messaging.outbox import PENDING
from ..store import get_store
from ..store.outbox import OutboxMessage
from .delivery import wait_for_delivery
from .failures import directory_needed

reminders_cli = AppGroup("reminders", help="Reminder mails.")


@reminders_cli.command("expiry")
@directory_needed
def expiry_command() -> None:
    """Remind people whose directory password expires within [expiry_reminders] within_days.

    Safe to run more than once a day: each person gets at most one reminder per day."""
    settings = current_app.extensions["settings"]
    with get_store().transaction() as db:
        run = send_reminders(db, directory_for(), settings)
    click.echo(f"{run.expiring} passwords expire within {settings.expiry_reminders.within_days} days: "
               f"{run.queued} reminders queued, {run.already} already reminded today, "
               f"{run.no_address} without a mail address")

    def waiting() -> int:
        with get_store().transaction() as db:
            return db.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.purpose == PURPOSE, OutboxMessage.status == PENDING)) or 0
    if run.queued:
        wait_for_delivery(waiting)
