"""Themes IT edits as files: texts, colours, logo, links, and template and static overrides."""
from .registry import ThemeRegistry, current_theme, use_theme
from .theme import Theme

__all__ = ["Theme", "ThemeRegistry", "current_theme", "use_theme"]
