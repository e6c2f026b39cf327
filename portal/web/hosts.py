"""Serve only the host names the settings name, each with its theme; anything else is a 400.

Guessing a theme for an unknown Host header would let anyone frame our pages under their name.
"""
from __future__ import annotations

import logging

from flask import Flask, Response, g, request

from ..branding import ThemeRegistry

log = logging.getLogger(__name__)


def install(app: Flask, themes: ThemeRegistry) -> None:
    @app.before_request
    def _select_theme() -> Response | None:
        theme = themes.for_host(request.host)
        if theme is None:
            log.warning("request for a host name that is not configured was refused")
            # deliberately unbranded: no organization's name on a host we do not serve
            return Response("400 Bad Request: this host name is not served here.\n", 400,
                            mimetype="text/plain")
        g.theme = theme
        return None
