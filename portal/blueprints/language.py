"""The language switcher's one route: remember the language chosen and go back to the page.

A plain link (GET) on every page, so it works signed out and without script; what it changes is
a cookie of the browser that followed it, nothing on the server (web/languages.py)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request
from werkzeug.wrappers import Response

from ..extensions import limiter
from ..web.languages import remember, same_site_path

bp = Blueprint("language", __name__)


@bp.get("/language/<code>")
@limiter.exempt
def choose(code: str) -> Response:
    if code not in current_app.extensions["settings"].i18n.languages:
        abort(404)
    return remember(redirect(same_site_path(request.args.get("next")), 303), code)
