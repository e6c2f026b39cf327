"""`flask --app wsgi campaign ...`: adoption campaigns from the command line (scripts, big sends)."""
from __future__ import annotations

import getpass
import signal
import threading

import click
from flask.cli import AppGroup

from ..services.campaigns import campaigns
from ..services.container import Collaborators, collaborators
from .delivery import wait_for_delivery
from .failures import directory_needed

campaign_cli = AppGroup("campaign", help="Adoption campaigns by email.")
BY = click.option("--by", default=lambda: f"cli:{getpass.getuser()}", show_default="cli:<your user>",
                  help="Who does this, for the audit log.")


def _progress_line(c: Collaborators, campaign_id: int) -> str:
    p = _progress(c, campaign_id)
    return (f"campaign {campaign_id}: {p.total} recipients, {p.pending} not queued yet, {p.waiting} waiting, "
            f"{p.delivered} delivered, {p.failed} failed")


def _progress(c: Collaborators, campaign_id: int) -> campaigns.Progress:
    try:
        return campaigns.current_progress(c, campaign_id)
    except campaigns.NoSuchCampaign:
        raise click.UsageError(f"no campaign {campaign_id}") from None


@campaign_cli.command("list")
def list_command() -> None:
    """Every campaign with its state."""
    for row in reversed(campaigns.overview(collaborators())):
        c = row.campaign
        click.echo(f"{c.id}\t{c.status}\t{c.template}\t{c.audience}\t{c.group or '-'}\t{c.created_by}")


@campaign_cli.command("create")
@click.option("--template", type=click.Choice(campaigns.TEMPLATES), required=True)
@click.option("--audience", type=click.Choice(campaigns.AUDIENCES), required=True)
@click.option("--group", default=None, help="Only members of this group (name or DN).")
@click.option("--theme", default=None, help="Theme of the mail (default: the portal's theme).")
@BY
def create_command(template: str, audience: str, group: str | None, theme: str | None, by: str) -> None:
    """Create a draft; prints its number."""
    c = collaborators()
    themes = c.themes.themes
    if theme is not None and theme not in themes:
        raise click.UsageError(f"unknown theme {theme!r}; known: {', '.join(sorted(themes))}")
    click.echo(campaigns.create(c, template=template, audience=audience, group=group,
                                theme=theme or c.settings.theme, by=by))


@campaign_cli.command("preview")
@click.argument("campaign_id", type=int)
def preview_command(campaign_id: int) -> None:
    """Print the mail as a recipient would get it (the admin page also sends you a test)."""
    try:
        mail = campaigns.preview(collaborators(), campaign_id, to="ada@example.com", name="Ada Example")
    except campaigns.NoSuchCampaign:
        raise click.UsageError(f"no campaign {campaign_id}") from None
    click.echo(f"Subject: {mail.subject}\n\n{mail.text}")


@campaign_cli.command("send")
@click.argument("campaign_id", type=int)
@click.option("--wait/--no-wait", default=True, help="Wait until the mail server has taken every message.")
@BY
@directory_needed
def send_command(campaign_id: int, wait: bool, by: str) -> None:
    """Start a draft, or resume one that stopped; Ctrl-C or SIGTERM stops it cleanly (resume later)."""
    c = collaborators()
    try:
        click.echo(f"campaign {campaign_id}: sending to {campaigns.start(c, campaign_id, by=by)} people")
    except campaigns.NoSuchCampaign:
        raise click.UsageError(f"no campaign {campaign_id}") from None
    except campaigns.AlreadyStarted:
        pass  # sending or finished: carry on where it stopped
    except campaigns.CampaignError as error:  # nobody counted yet
        raise click.ClickException(str(error)) from None
    stop = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        finished = campaigns.Sender(c).run(campaign_id, stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if not finished:
        click.echo(f"stopped; run `campaign send {campaign_id}` again to resume. {_progress_line(c, campaign_id)}")
        return
    if wait:
        wait_for_delivery(lambda: _progress(c, campaign_id).waiting)
    click.echo(_progress_line(c, campaign_id))


@campaign_cli.command("status")
@click.argument("campaign_id", type=int)
def status_command(campaign_id: int) -> None:
    """Progress of one campaign."""
    click.echo(_progress_line(collaborators(), campaign_id))
