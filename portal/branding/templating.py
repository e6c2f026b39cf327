"""Template lookup that lets a theme override any built-in template by the same path.

Jinja caches compiled templates by name, so the theme is made part of the name
(`contoso::landing.html`): two hosts with two themes never share a cached template, and
`{% extends "base.html" %}` inside a theme resolves to that theme's base first.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from flask.templating import Environment
from jinja2 import BaseLoader, TemplateNotFound
from jinja2 import Environment as JinjaEnvironment
from werkzeug.security import safe_join

from .registry import current_theme
from .theme import Theme

SEPARATOR = "::"


class ThemeLoader(BaseLoader):
    """The theme's own templates folder first (themes validated at start-up), then the built-in one."""

    def __init__(self, builtin: Path, themes: Mapping[str, Theme]) -> None:
        self.builtin = builtin
        self.themes = themes

    def get_source(self, environment: JinjaEnvironment, template: str) -> tuple[str, str, Callable[[], bool]]:
        theme_name, _, name = template.rpartition(SEPARATOR)
        theme = self.themes.get(theme_name)
        for folder in (theme.templates_dir, self.builtin) if theme else (self.builtin,):
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
