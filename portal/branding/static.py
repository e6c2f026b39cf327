"""Static files with theme overrides (`branding/<theme>/static/` first) and the theme's colours as CSS.

Colours reach the page as a stylesheet, not inline styles, so the CSP can forbid inline style.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory
from werkzeug.security import safe_join

from ..extensions import limiter
from .registry import current_theme

BUILTIN_STATIC = Path(__file__).resolve().parent.parent / "static"
bp = Blueprint("assets", __name__)


@bp.get("/static/<path:filename>", endpoint="static")
@limiter.exempt
def static(filename: str) -> Response:
    for folder in (current_theme().static_dir, BUILTIN_STATIC):
        path = safe_join(str(folder), filename)
        if path is not None and Path(path).is_file():
            return send_from_directory(folder, filename, max_age=3600)
    abort(404)


@bp.get("/theme.css")
@limiter.exempt
def theme_css() -> Response:
    colours = current_theme().file.colours
    names = ("primary", "on_primary", "background", "surface", "text", "muted_text", "link", "focus")
    body = ":root {\n" + "".join(f"  --{n.replace('_', '-')}: {getattr(colours, n)};\n" for n in names) + "}\n"
    response = Response(body, mimetype="text/css")
    response.cache_control.max_age = 300
    return response
