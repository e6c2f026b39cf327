"""`flask --app wsgi registration ...`: import security info prepared by IT, ask people to re-register."""
from __future__ import annotations

import sys
from typing import TextIO

import click
from flask.cli import AppGroup

from ..services.container import collaborators
from ..services.registration import reregistration
from ..services.registration.csv_import import ImportStopped, import_rows, read_csv

registration_cli = AppGroup("registration", help="Security info people register.")


@registration_cli.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def import_command(csv_file: TextIO) -> None:
    """Import alternate emails and mobile numbers from CSV_FILE (columns: username, email, phone).

    Each line is reported; a bad line is skipped and the others are imported. Exits with 1 when a
    line was skipped, so scripts notice.
    """
    imported = skipped = 0
    c = collaborators()
    try:
        for result in import_rows(read_csv(csv_file), directory=c.directory, store=c.store, settings=c.settings):
            if result.ok:
                imported += 1
                click.echo(f"line {result.line}: {result.username}: imported {', '.join(result.imported)}")
            else:
                skipped += 1
                click.echo(f"line {result.line}: {result.username or '(no user name)'}: skipped: {result.problem}")
    except ImportStopped as stopped:
        click.echo(f"import stopped: {stopped}", err=True)
        sys.exit(2)
    click.echo(f"{imported} imported, {skipped} skipped")
    if skipped:
        sys.exit(1)


@registration_cli.command("purge-codes")
def purge_codes_command() -> None:
    """Delete one-time codes that expired more than a day ago (run daily from cron)."""
    c = collaborators()
    with c.store.transaction() as db:
        removed = c.codes.purge(db)
    click.echo(f"removed {removed} expired codes")


@registration_cli.command("require-reregistration")
@click.option("--user", "login", help="A login name or email.")
@click.option("--group", help="A group name or DN: every member in the rollout scope.")
@click.option("--by", default="cli", show_default=True, help="Who asks, for the audit log.")
def require_reregistration_command(login: str | None, group: str | None, by: str) -> None:
    """Make the next sign-in (or /enforce visit) of a person or a group's members ask them to
    check and confirm their security info. Exits with 1 when nobody was asked."""
    if (login is None) == (group is None):
        raise click.UsageError("give exactly one of --user and --group")
    c = collaborators()
    try:
        if login is not None:
            asked = reregistration.for_person(c, login, by=by)
        else:
            asked = reregistration.for_group(c, group or "", by=by)
    except reregistration.NotAsked as refused:
        click.echo(str(refused), err=True)
        sys.exit(1)
    except reregistration.DirectoryUnavailable as error:
        click.echo(f"directory unavailable: {error}", err=True)
        sys.exit(2)
    for name in asked.logins:
        click.echo(f"{name}: asked to re-register")
    click.echo(f"{len(asked.logins)} asked")
