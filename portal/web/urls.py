"""Absolute URLs from the configured base URL, never from the request's Host header.

A reset link built from a forged Host header would send the victim's code to the attacker, so
links are built from settings alone, which also makes them work from the CLI (campaign mails).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    base = urlsplit(current_app.extensions["settings"].base_url)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
