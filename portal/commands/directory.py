"""`flask --app wsgi directory check`: verify the directory settings and the service account's rights."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from ..adapters.directory import create_directory
from ..adapters.directory.diagnostics import FAILED, run
from ..services.container import collaborators

directory_cli = AppGroup("directory", help="The directory passwords are written to.")


@directory_cli.command("check")
@click.option("--test-account", metavar="LOGIN",
              help="An ordinary test account to RESET (to a random password) and unlock, proving "
                   "the service account's rights. Never name a real person's account.")
def check_command(test_account: str | None) -> None:
    """Reachability, TLS, bind, search bases, password policy (and rights on a test account)."""
    settings = collaborators().settings.directory
    if settings is None:
        raise click.ClickException("no [directory] in the settings: every action is a link (link mode)")
    click.echo(f"Directory: {settings.kind} at {settings.url}")
    failed = False
    directory = create_directory(settings)  # its own connections: the check proves a fresh start works
    try:
        for line in run(directory, test_account):
            click.echo(str(line))
            failed = failed or line.status == FAILED
    finally:
        directory.close()
    if failed:
        raise SystemExit(1)
    click.echo("All required checks passed.")
