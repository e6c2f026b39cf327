"""Mail and SMS templates, rendered in the portal's sandboxed environment with the theme's overrides.

IT edits these in its theme (`branding/<theme>/templates/mail/...`), and they go to everyone in
the company. They render in `app.jinja_env`, the same immutable sandbox as the pages
(branding/templating.py), and get plain data only: the theme's texts, the portal's address, and
what the message is about. They render inside or outside a request (the CLI sends campaigns and
reminders), in the theme chosen with `use_theme` or the request's.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import get_locale

from .catalogues import current_brand


def render(template: str, /, **context: Any) -> str:
    """Render `template` (e.g. "mail/code.txt") with the theme (in the current language) as `brand`
    and the locale known."""
    return current_app.jinja_env.get_template(template).render(brand=current_brand(), get_locale=get_locale, **context)
