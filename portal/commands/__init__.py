"""Command groups of `flask --app wsgi ...`, one module per group."""
from __future__ import annotations

from flask import Flask

from ..services.container import collaborators
from .audit import audit_cli
from .campaigns import campaign_cli
from .directory import directory_cli
from .doctor import doctor_command
from .outbox import outbox_cli
from .registration import registration_cli
from .reminders import reminders_cli
from .reports import reports_cli
from .store import store_cli

# the groups that read accounts: absent where the portal has no directory (link mode)
ACCOUNT_GROUPS = (directory_cli, registration_cli, campaign_cli, reports_cli, reminders_cli)


def register_commands(app: Flask) -> None:
    has_directory = collaborators(app).configured_directory is not None
    for group in (store_cli, *(ACCOUNT_GROUPS if has_directory else ()), outbox_cli, audit_cli, doctor_command):
        app.cli.add_command(group)
