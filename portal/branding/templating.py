"""Template lookup that lets a theme override any built-in template by the same path.

Jinja caches compiled templates by name, so the theme is made part of the name
(`contoso::landing.html`): two hosts with two themes never share a cached template, and
`{% extends "base.html" %}` inside a theme resolves to that theme's base first.
"""
from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from flask.templating import Environment
from jinja2 import BaseLoader, TemplateNotFound
from jinja2 import Environment as JinjaEnvironment
from werkzeug.security import safe_join

from .registry import current_theme

SEPARATOR = "::"


class ThemeLoader(BaseLoader):
    def __init__(self, builtin: Path, branding: Path) -> None:
        self.builtin = builtin
        self.branding = branding

    def get_source(self, environment: JinjaEnvironment, template: str) -> tuple[str, str, Callable[[], bool]]:
        theme, _, name = template.rpartition(SEPARATOR)
        for folder in (self.branding / theme / "templates" if theme else None, self.builtin):
            if folder is None:
                continue
            path = safe_join(str(folder), name)
            if path is not None and Path(path).is_file():
                mtime = Path(path).stat().st_mtime
                source = Path(path).read_text(encoding="utf-8")
                return source, path, lambda p=path, m=mtime: Path(p).stat().st_mtime == m
        raise TemplateNotFound(template)


class ThemeNaming(JinjaEnvironment):
    """Mixin: template names carry the current theme, for lookup and for Jinja's cache."""

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Any:
        if SEPARATOR not in name:
            name = f"{current_theme().name}{SEPARATOR}{name}"
        return super()._load_template(name, globals)


class ThemedEnvironment(ThemeNaming, Environment):
    """Flask's environment for pages."""
