"""`flask --app wsgi audit export`: the audit log as CSV on stdout (for a SIEM or an auditor)."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..services.container import collaborators
from ..services.reporting.audit_log import AuditFilter, export_csv
from ..services.reporting.date_range import BadRange, DateRange
from ..services.security.audit import OUTCOMES

audit_cli = AppGroup("audit", help="The audit log (read-only).")


@audit_cli.command("export")
@click.option("--from", "first", default=None, help="First day, YYYY-MM-DD (default: 30 days before --to).")
@click.option("--to", "last", default=None, help="Last day, YYYY-MM-DD (default: today, UTC).")
@click.option("--user", default=None)
@click.option("--event", default=None)
@click.option("--outcome", type=click.Choice(OUTCOMES), default=None)
def export_command(first: str | None, last: str | None, user: str | None, event: str | None,
                   outcome: str | None) -> None:
    """Print the matching events, oldest first, as spreadsheet-safe CSV."""
    try:
        period = DateRange.parse(first, last)
    except BadRange as error:
        raise click.UsageError(str(error)) from None
    where = AuditFilter(period=period, username=user, event=event, outcome=outcome)
    for line in export_csv(collaborators(), where):
        sys.stdout.write(line)
