"""Mail and SMS templates, rendered in Jinja's sandbox with the theme's overrides.

IT edits these in its theme (`branding/<theme>/templates/mail/...`), and they go to everyone in
the company: a template must not be able to reach the portal's internals (`config`, the
settings, `__class__` chains). The immutable sandbox refuses unsafe attributes and any change to
the values passed in, and templates get plain data only: the theme's texts, the portal's
address, and what the message is about. They render inside or outside a request (the CLI
sends campaigns and reminders), in the theme chosen with `use_theme` or the request's.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from flask_babel import get_locale, get_translations
from jinja2 import select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .registry import current_theme
from .templating import ThemeNaming

EXTENSION = "sandboxed_templates"


class SandboxedThemedEnvironment(ThemeNaming, ImmutableSandboxedEnvironment):
    pass


def render(template: str, /, **context: Any) -> str:
    """Render `template` (e.g. "mail/code.txt") with the theme as `brand` and the locale known."""
    theme = current_theme()
    return _environment(current_app).get_template(template).render(
        brand=theme.file, get_locale=get_locale, **context)


def _environment(app: Flask) -> SandboxedThemedEnvironment:
    environment = app.extensions.get(EXTENSION)
    if environment is None:
        environment = SandboxedThemedEnvironment(loader=app.jinja_env.loader,
                                                 autoescape=select_autoescape(["html"]),
                                                 extensions=["jinja2.ext.i18n"])
        # Jinja fills the %(name)s placeholders itself (newstyle): hand it the bare translations
        environment.install_gettext_callables(  # type: ignore[attr-defined]
            lambda text: get_translations().ugettext(text),
            lambda singular, plural, n: get_translations().ungettext(singular, plural, n), newstyle=True)
        app.extensions[EXTENSION] = environment
    return environment
