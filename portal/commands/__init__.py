"""Command groups of `flask --app wsgi ...`, one module per group."""
from __future__ import annotations

from flask import Flask

from .directory import directory_cli
from .outbox import outbox_cli
from .registration import registration_cli
from .store import store_cli


def register_commands(app: Flask) -> None:
    for group in (store_cli, directory_cli, registration_cli, outbox_cli):
        app.cli.add_command(group)
