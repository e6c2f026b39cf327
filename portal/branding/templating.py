"""The portal's one template environment: themed lookup, rendered in Jinja's immutable sandbox.

A theme may override any built-in page, mail or SMS template by the same path, and IT edits
themes as plain files: a theme template must not be able to reach the portal's internals (the
secret key, the settings, `__globals__` chains). So every template renders in one sandboxed
environment, whose templates see plain data and safe helpers only (`url_for`, `csrf_token`,
the translations, `brand`, `current_user`). Flask hands every template `config`, `request`,
`session` and `g` (as globals, and again from each blueprint's default context processor);
the template class drops them from every context it makes, because a built-in page includes
theme partials and extends theme layouts with its whole context. The sandbox makes unsafe
attributes (`__globals__`, `__class__`...) undefined and refuses any change to the values
passed in.

Jinja caches compiled templates by name, so the theme is made part of the name
(`contoso::landing.html`): two hosts with two themes never share a cached template, and
`{% extends "base.html" %}` inside a theme resolves to that theme's base first. Administration
pages are named with no theme (`::admin/index.html`), and so is everything they extend or
include: no theme template ever renders with administration data.
"""
from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import BaseLoader, Template, TemplateNotFound
from jinja2 import Environment as JinjaEnvironment
from jinja2.runtime import Context, new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from werkzeug.security import safe_join

from .registry import current_theme
from .theme import Theme

SEPARATOR = "::"
BUILTIN_ONLY = ("admin/",)  # template folders a theme cannot override
UNSAFE_NAMES = frozenset(("config", "request", "session", "g"))  # what Flask hands every template
SAFETY_MEMO_SIZE = 4096  # (class, attribute) answers the sandbox remembers; beyond, it asks each time


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
    """Mixin: template names carry the current theme (none for built-in-only ones), for lookup and cache."""

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Any:
        if SEPARATOR not in name:
            theme = "" if name.startswith(BUILTIN_ONLY) else current_theme().name
            name = f"{theme}{SEPARATOR}{name}"
        return super()._load_template(name, globals)

    def join_path(self, template: str, parent: str) -> str:
        """What a built-in-only template extends or includes is built-in only too."""
        if SEPARATOR not in template and parent.startswith(SEPARATOR):
            return SEPARATOR + template
        return template


class PlainDataTemplate(Template):
    """A template whose contexts never hold Flask's `config`, `request`, `session` or `g`."""

    def new_context(self, vars: dict[str, Any] | None = None, shared: bool = False,
                    locals: Mapping[str, Any] | None = None) -> Context:
        return new_context(self.environment, self.name, self.blocks, _plain(vars or {}), shared,
                           self._plain_globals(), locals)

    def _plain_globals(self) -> dict[str, Any]:
        """The environment's globals as they are when the template has none of its own and
        they hold nothing unsafe (the usual case, checked on every call, in C); else a filtered
        copy. Saves copying the ~20 globals through a ChainMap for each template of a page."""
        own, shared = self.globals.maps if isinstance(self.globals, ChainMap) else ({}, {})
        if not own and isinstance(shared, dict) and UNSAFE_NAMES.isdisjoint(shared):
            return shared
        return _plain(self.globals)


def _plain(names: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in names.items() if name not in UNSAFE_NAMES}


class PlainGlobals(dict[str, Any]):
    """The environment's globals, which never take Flask's `config`, `request`, `session` or
    `g` (Flask adds them with `update` right after creating the environment). Templates drop
    them anyway; keeping them out here lets a template use the globals without copying them."""

    def __setitem__(self, name: str, value: Any) -> None:
        if name not in UNSAFE_NAMES:
            super().__setitem__(name, value)

    def update(self, *others: Any, **names: Any) -> None:
        for name, value in dict(*others, **names).items():
            self[name] = value


class PortalEnvironment(ThemeNaming, ImmutableSandboxedEnvironment):
    """The environment of pages, mail and SMS (Flask creates it as `app.jinja_env`)."""

    template_class = PlainDataTemplate

    def __init__(self, app: Flask, **options: Any) -> None:
        super().__init__(**options)
        self.globals = PlainGlobals(self.globals)
        self.app = app
        self._safe_attributes: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """The immutable sandbox's answer, remembered per (class, attribute name).

        Jinja decides from the attribute's name and from isinstance checks on the object only
        (never from `value`), and a page asks the same few dozen questions on every render
        (about 60 us a page, measured). An object whose `__class__` is not its type (a proxy)
        could answer isinstance differently per instance, so it is always asked afresh; the
        memo is bounded because templates may look names up from data (`x[name]`)."""
        cls = type(obj)
        if obj.__class__ is not cls:
            return super().is_safe_attribute(obj, attr, value)
        key = (cls, attr)
        safe = self._safe_attributes.get(key)
        if safe is None:
            safe = super().is_safe_attribute(obj, attr, value)
            if len(self._safe_attributes) < SAFETY_MEMO_SIZE:
                self._safe_attributes[key] = safe
        return safe


def install(app: Flask, builtin: Path, themes: Mapping[str, Theme]) -> None:
    """Make `app.jinja_env` the sandboxed, themed environment."""
    # Flask types this as its own Environment class, but only ever calls it as (app, **options),
    # which PortalEnvironment takes: a sandboxed environment cannot also be Flask's subclass.
    app.jinja_environment = PortalEnvironment  # type: ignore[assignment]
    app.jinja_options = {"loader": ThemeLoader(builtin, themes)}
