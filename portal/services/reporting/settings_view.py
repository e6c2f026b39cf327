"""The effective settings as administrators see them: every key with its value, secrets hidden.

Values come from the loaded, validated settings (file plus PORTAL_* overrides), so the page shows
what the running portal really uses. A secret is shown only as set or not set: enough to find a
missing PORTAL_OIDC__CLIENT_SECRET, never enough to read one off a screen share.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from ...settings import Settings, secret_paths

HIDDEN, NOT_SET = "(hidden)", "(not set)"


def effective_settings(settings: Settings) -> list[tuple[str, str]]:
    """(dotted key, value as text) for every key, in schema order."""
    secrets = set(secret_paths(Settings))
    rows: list[tuple[str, str]] = []

    def walk(value: Any, prefix: str, schema_prefix: str) -> None:
        for field in dataclasses.fields(value):
            key, schema_key = f"{prefix}{field.name}", f"{schema_prefix}{field.name}"
            current = getattr(value, field.name)
            if schema_key in secrets:
                rows.append((key, HIDDEN if current else NOT_SET))
            elif dataclasses.is_dataclass(current):
                walk(current, f"{key}.", f"{schema_key}.")
            elif current and isinstance(current, dict) and all(dataclasses.is_dataclass(v) for v in current.values()):
                for name, table in current.items():  # [hosts."<name>"]: each entry's keys
                    walk(table, f"{key}.{name}.", f"{schema_key}.{name}.")
            elif isinstance(current, list) and current and dataclasses.is_dataclass(current[0]):
                for index, table in enumerate(current):  # an array of tables: [[webhooks]]
                    walk(table, f"{key}[{index}].", f"{schema_key}[].")
            else:
                rows.append((key, json.dumps(current, ensure_ascii=False)))

    walk(settings, "", "")
    return rows
