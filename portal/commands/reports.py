"""`flask --app wsgi reports ...`: the admin reports as CSV on stdout, and the refresh of the
standings they count (run by a timer in production; see deploy/systemd)."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..services.campaigns.population import refresh
from ..services.container import collaborators
from ..services.reporting.date_range import BadRange, DateRange
from ..services.reporting.reports import FROM_STANDINGS, NAMES, csv_lines, refreshed_at
from .failures import directory_needed

reports_cli = AppGroup("reports", help="Registration and usage reports.")


@reports_cli.command("show")
@click.argument("name", type=click.Choice(NAMES))
@click.option("--from", "first", default=None, help="First day, YYYY-MM-DD (default: 30 days before --to).")
@click.option("--to", "last", default=None, help="Last day, YYYY-MM-DD (default: today, UTC).")
@click.option("--group", default=None, help="Only members of this group (name or DN).")
def show_command(name: str, first: str | None, last: str | None, group: str | None) -> None:
    """Print one report as CSV (the same file the admin page downloads), streamed."""
    try:
        period = DateRange.parse(first, last)
    except BadRange as error:
        raise click.UsageError(str(error)) from None
    c = collaborators()
    if name in FROM_STANDINGS and refreshed_at(c) is None:
        click.echo("warning: nobody has been counted yet; run `flask --app wsgi reports refresh` first", err=True)
    for line in csv_lines(c, period, group, name):
        sys.stdout.write(line)


@reports_cli.command("refresh")
@directory_needed
def refresh_command() -> None:
    """Count everybody in the directory again for reports and campaign audiences (streamed, in batches)."""
    done = refresh(collaborators())
    click.echo(f"standings: {done.people} people, {done.removed} removed, "
               f"finished {done.finished_at:%Y-%m-%d %H:%M:%S} UTC")
