"""Load every theme the settings name, once at start-up, and pick one per request by host name.

A broken theme must stop start-up like a broken setting: a portal that renders a missing logo
or unreadable colours on the day of a password-reset campaign is worse than one that did not start.
"""
from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from flask import current_app, g, has_request_context
from werkzeug.security import safe_join

from ..settings import Problem, Settings
from ..settings.engine import build
from ..settings.sections import bare_host
from .colors import AA_NORMAL_TEXT, contrast_ratio
from .theme import Colours, Theme, ThemeFile

log = logging.getLogger(__name__)

_current: ContextVar[Theme | None] = ContextVar("portal_theme", default=None)


class ThemeRegistry:
    def __init__(self, themes: dict[str, Theme], default: str, hosts: dict[str, str]) -> None:
        """`hosts`: every host name served -> its theme's name (Settings.served_hosts)."""
        self.themes = themes
        self.default = themes[default]
        self.hosts = {host: themes[name] for host, name in hosts.items()}

    @classmethod
    def load(cls, settings: Settings, project_root: Path, problems: list[Problem]) -> "ThemeRegistry | None":
        root = Path(settings.branding_dir)
        root = root if root.is_absolute() else project_root / root
        hosts = {host: served.theme for host, served in settings.served_hosts.items()}
        names = set(hosts.values())
        themes = {name: theme for name in sorted(names)
                  if (theme := _load_theme(root, name, problems)) is not None}
        if len(themes) != len(names):
            return None
        return cls(themes, settings.theme, hosts)

    def for_host(self, host: str) -> Theme | None:
        """The theme for a request's host name (port ignored), or None for a host we do not serve."""
        return self.hosts.get(bare_host(host))


def _load_theme(root: Path, name: str, problems: list[Problem]) -> Theme | None:
    folder = safe_join(str(root), name)
    source = str(root / name / "theme.toml")
    if folder is None or not (Path(folder) / "theme.toml").is_file():
        problems.append(Problem(source, "(file)", f"theme {name!r} not found: expected {source}"))
        return None
    try:
        data = tomllib.loads((Path(folder) / "theme.toml").read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        problems.append(Problem(source, "(file)", f"is not valid TOML: {error}"))
        return None
    before = len(problems)
    file = build(ThemeFile, data, "", lambda _key: source, problems)
    if file is None or len(problems) > before:
        return None
    theme = Theme(name, Path(folder), file)
    for override in _admin_overrides(theme):
        problems.append(Problem(str(override), "(file)", "a theme cannot override administration pages "
                                                         "(templates/admin/); remove it"))
    for key in ("logo", "favicon"):
        relative = getattr(file, key)
        if relative and not _static_file_exists(theme, relative):
            problems.append(Problem(source, key, f"names {relative!r}, which is not a file in {theme.static_dir}"))
    _warn_low_contrast(theme, source)
    return theme


def _admin_overrides(theme: Theme) -> list[Path]:
    """Files that would override administration pages, which always render built-in (templating.py)."""
    folder = theme.templates_dir / "admin"
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else []


def _static_file_exists(theme: Theme, relative: str) -> bool:
    path = safe_join(str(theme.static_dir), relative)
    return path is not None and Path(path).is_file()


def _warn_low_contrast(theme: Theme, source: str) -> None:
    colours = theme.file.colours
    for foreground, background in Colours.TEXT_PAIRS:
        ratio = contrast_ratio(getattr(colours, foreground), getattr(colours, background))
        if ratio < AA_NORMAL_TEXT:
            log.warning("%s: colours.%s on colours.%s has contrast %.2f:1, below WCAG AA (%.1f:1)",
                        source, foreground, background, ratio, AA_NORMAL_TEXT)


def current_theme() -> Theme:
    """The request's theme (chosen by host), else one selected with use_theme, else the default."""
    if has_request_context() and "theme" in g:
        chosen: Theme = g.theme
        return chosen
    selected = _current.get()
    if selected is not None:
        return selected
    registry: ThemeRegistry = current_app.extensions["themes"]
    return registry.default


@contextmanager
def use_theme(theme: Theme) -> Iterator[Theme]:
    """Select the theme for rendering (a request, or an email sent from the CLI)."""
    token = _current.set(theme)
    try:
        yield theme
    finally:
        _current.reset(token)
