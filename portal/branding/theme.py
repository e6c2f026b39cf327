"""The schema of `branding/<theme>/theme.toml`, validated by the same engine as the settings."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..settings import checks
from ..settings.engine import setting
from .colors import hex_colour


def N_(text: str) -> str:
    """Mark a default text for the catalogue (`make messages` extracts N_); it is translated where
    shown, with the theme's other texts (catalogues.translated)."""
    return text


def _email(v: str) -> str | None:
    return None if v == "" or ("@" in v and " " not in v) else f"must be an email address (got {v!r})"


def _link_url(v: str) -> str | None:
    return None if v.startswith(("mailto:", "tel:")) else checks.web_url(v)


@dataclass(frozen=True, kw_only=True)
class Colours:
    primary: str = setting("#0F6CBD", check=hex_colour)
    on_primary: str = setting("#FFFFFF", check=hex_colour)
    background: str = setting("#FFFFFF", check=hex_colour)
    surface: str = setting("#F3F5F8", check=hex_colour)
    text: str = setting("#1B1B1F", check=hex_colour)
    muted_text: str = setting("#4A4F57", check=hex_colour)
    link: str = setting("#0B5394", check=hex_colour)
    focus: str = setting("#B3471B", check=hex_colour)

    # (foreground, background) pairs that carry text, checked against WCAG AA at start-up
    TEXT_PAIRS = (("text", "background"), ("text", "surface"), ("muted_text", "background"),
                  ("muted_text", "surface"), ("on_primary", "primary"), ("link", "background"),
                  ("link", "surface"))


@dataclass(frozen=True, kw_only=True)
class Helpdesk:
    name: str = setting(N_("the IT help desk"))
    phone: str = setting("")
    email: str = setting("", check=_email)
    url: str = setting("", check=lambda v: None if v == "" else checks.web_url(v))
    hours: str = setting("")


@dataclass(frozen=True, kw_only=True)
class Texts:
    headline: str = setting(N_("Manage your password"), check=checks.non_empty)
    intro: str = setting(N_("Reset a forgotten password, keep your security info up to date, or change your password."))
    reset_description: str = setting(N_("Forgot your password or locked out? Verify it is you and choose a new one."))
    register_description: str = setting(N_("Add or update the ways we can verify it is you."))
    change_description: str = setting(N_("Know your password and want a new one? Change it here."))


@dataclass(frozen=True, kw_only=True)
class Block:
    title: str = setting(check=checks.non_empty)
    body: str = setting(check=checks.non_empty)


@dataclass(frozen=True, kw_only=True)
class Link:
    label: str = setting(check=checks.non_empty)
    url: str = setting(check=_link_url)


@dataclass(frozen=True, kw_only=True)
class ThemeFile:
    organization: str = setting(check=checks.non_empty)
    portal_title: str = setting(check=checks.non_empty)
    logo: str = setting("")
    logo_alt: str = setting("")
    favicon: str = setting("")
    footer: str = setting("")
    colours: Colours = setting(Colours)
    helpdesk: Helpdesk = setting(Helpdesk)
    texts: Texts = setting(Texts)
    blocks: list[Block] = setting([])
    links: list[Link] = setting([])


@dataclass(frozen=True)
class Theme:
    """A loaded theme: its validated file plus where its overrides live."""

    name: str
    root: Path
    file: ThemeFile

    @property
    def static_dir(self) -> Path:
        return self.root / "static"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"
