"""Command groups of `flask --app wsgi ...`, one module per group."""
from __future__ import annotations

from flask import Flask

from .audit import audit_cli
from .campaigns import campaign_cli
from .directory import directory_cli
from .outbox import outbox_cli
from .registration import registration_cli
from .reminders import reminders_cli
from .reports import reports_cli
from .store import store_cli


def register_commands(app: Flask) -> None:
    for group in (store_cli, directory_cli, registration_cli, outbox_cli, campaign_cli, reports_cli,
                  reminders_cli, audit_cli):
        app.cli.add_command(group)
