"""`flask --app wsgi store ...`: schema upgrades and housekeeping of the portal's database."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..services.container import collaborators
from ..store.migrate import current_revision, upgrade

store_cli = AppGroup("store", help="The portal's own database.")


@store_cli.command("upgrade")
def upgrade_command() -> None:
    """Apply every pending migration (safe to run on each start)."""
    store = collaborators().store
    upgrade(store)
    click.echo(f"database at revision {current_revision(store)}")


@store_cli.command("purge-sessions")
def purge_sessions_command() -> None:
    """Delete expired browser sessions (run daily from cron)."""
    removed = current_app.session_interface.purge_expired()  # type: ignore[attr-defined]
    click.echo(f"removed {removed} expired sessions")
