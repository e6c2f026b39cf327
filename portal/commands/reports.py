"""`flask --app wsgi reports ...`: the admin reports as CSV on stdout, for scripts."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..services.container import collaborators
from ..services.reporting.csv_export import rows_as_csv
from ..services.reporting.date_range import BadRange, DateRange
from ..services.reporting.reports import NAMES, tables
from .failures import directory_needed

reports_cli = AppGroup("reports", help="Registration and usage reports.")


@reports_cli.command("show")
@click.argument("name", type=click.Choice(NAMES))
@click.option("--from", "first", default=None, help="First day, YYYY-MM-DD (default: 30 days before --to).")
@click.option("--to", "last", default=None, help="Last day, YYYY-MM-DD (default: today, UTC).")
@click.option("--group", default=None, help="Only members of this group (name or DN).")
@directory_needed
def show_command(name: str, first: str | None, last: str | None, group: str | None) -> None:
    """Print one report as CSV (the same file the admin page downloads)."""
    try:
        period = DateRange.parse(first, last)
    except BadRange as error:
        raise click.UsageError(str(error)) from None
    [table] = tables(collaborators(), period, group, [name]).values()
    for line in rows_as_csv(table.header, table.rows):
        sys.stdout.write(line)
