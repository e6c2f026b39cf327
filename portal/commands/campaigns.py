"""`flask --app wsgi campaign ...`: adoption campaigns from the command line (scripts, big sends)."""
from __future__ import annotations

import getpass
import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..adapters.directory import directory_for
from ..services.campaigns import campaigns
from ..settings import Settings
from ..store import get_store
from ..store.campaigns import Campaign
from .delivery import wait_for_delivery
from .failures import directory_needed

campaign_cli = AppGroup("campaign", help="Adoption campaigns by email.")
BY = click.option("--by", default=lambda: f"cli:{getpass.getuser()}", show_default="cli:<your user>",
                  help="Who does this, for the audit log.")


def _settings() -> Settings:
    return current_app.extensions["settings"]


def _progress_line(campaign_id: int) -> str:
    with get_store().transaction() as db:
        p = campaigns.progress(db, campaign_id)
    return (f"campaign {campaign_id}: {p.total} recipients, {p.pending} not queued yet, {p.waiting} waiting, "
            f"{p.delivered} delivered, {p.failed} failed")


@campaign_cli.command("list")
def list_command() -> None:
    """Every campaign with its state."""
    with get_store().transaction() as db:
        for c in db.scalars(select(Campaign).order_by(Campaign.id)):
            click.echo(f"{c.id}\t{c.status}\t{c.template}\t{c.audience}\t{c.group or '-'}\t{c.created_by}")


@campaign_cli.command("create")
@click.option("--template", type=click.Choice(campaigns.TEMPLATES), required=True)
@click.option("--audience", type=click.Choice(campaigns.AUDIENCES), required=True)
@click.option("--group", default=None, help="Only members of this group (name or DN).")
@click.option("--theme", default=None, help="Theme of the mail (default: the portal's theme).")
@BY
def create_command(template: str, audience: str, group: str | None, theme: str | None, by: str) -> None:
    """Create a draft; prints its number."""
    themes = current_app.extensions["themes"].themes
    if theme is not None and theme not in themes:
        raise click.UsageError(f"unknown theme {theme!r}; known: {', '.join(sorted(themes))}")
    with get_store().transaction() as db:
        campaign = campaigns.create(db, _settings(), template=template, audience=audience, group=group,
                                    theme=theme or _settings().theme, by=by)
        click.echo(campaign.id)


@campaign_cli.command("preview")
@click.argument("campaign_id", type=int)
def preview_command(campaign_id: int) -> None:
    """Print the mail as a recipient would get it (the admin page also sends you a test)."""
    with get_store().transaction() as db:
        mail = campaigns.render(_settings(), _campaign(db, campaign_id), to="ada@example.com", name="Ada Example")
    click.echo(f"Subject: {mail.subject}\n\n{mail.text}")


@campaign_cli.command("send")
@click.argument("campaign_id", type=int)
@click.option("--wait/--no-wait", default=True, help="Wait until the mail server has taken every message.")
@BY
@directory_needed
def send_command(campaign_id: int, wait: bool, by: str) -> None:
    """Start a draft, or resume one that stopped; Ctrl-C or SIGTERM stops it cleanly (resume later)."""
    with get_store().transaction() as db:
        status = _campaign(db, campaign_id).status
        if status == campaigns.DRAFT:
            count = campaigns.start(db, directory_for(), _settings(), campaign_id, by=by)
            click.echo(f"campaign {campaign_id}: sending to {count} people")
    stop = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        finished = campaigns.Sender(get_store(), _settings()).run(campaign_id, stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if not finished:
        click.echo(f"stopped; run `campaign send {campaign_id}` again to resume. {_progress_line(campaign_id)}")
        return
    if wait:
        def waiting() -> int:
            with get_store().transaction() as db:
                return campaigns.progress(db, campaign_id).waiting
        wait_for_delivery(waiting)
    click.echo(_progress_line(campaign_id))


@campaign_cli.command("status")
@click.argument("campaign_id", type=int)
def status_command(campaign_id: int) -> None:
    """Progress of one campaign."""
    with get_store().transaction() as db:
        _campaign(db, campaign_id)
    click.echo(_progress_line(campaign_id))


def _campaign(db: Session, campaign_id: int) -> Campaign:
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise click.UsageError(f"no campaign {campaign_id}")
    return campaign
