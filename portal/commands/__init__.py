"""Command groups of `flask --app wsgi ...`, one module per group."""
from __future__ import annotations

from flask import Flask

from .store import store_cli


def register_commands(app: Flask) -> None:
    for group in (store_cli,):
        app.cli.add_command(group)
