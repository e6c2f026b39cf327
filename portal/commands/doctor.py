"""`flask --app wsgi doctor`: the deployment checked end to end, one line per check with its fix."""
from __future__ import annotations

import dataclasses
import json

import click
from flask.cli import with_appcontext

from ..services.container import collaborators
from ..services.reporting.doctor import FAIL, diagnose


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {check, status, detail, fix}.")
@click.option("--mail-to", metavar="ADDRESS",
              help="Also send a test message to ADDRESS (sending mail is a side effect: only when asked).")
@with_appcontext
def doctor_command(as_json: bool, mail_to: str | None) -> None:
    """Directory TLS and rights, protected accounts, provider, mail, Redis, migrations, base_url.

    Exits 1 when any check fails."""
    findings = diagnose(collaborators(), mail_to=mail_to)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(f) for f in findings], indent=2))
    else:
        for finding in findings:
            click.echo(str(finding))
    if any(f.status == FAIL for f in findings):
        raise SystemExit(1)
