"""Where the portal's three actions lead, and absolute links built from the configured base URL.

An action is the portal's own flow or the external URL settings name for it (a Microsoft page,
for instance); a built-in flow that does not exist in this portal is not linked (on the landing
page) or links to the landing page (in mails) rather than to a page that is not there.

Absolute URLs come from settings, never from the request's Host header: a reset link built from
a forged Host header would send the victim's code to the attacker. The header only chooses which
configured host's `base_url` a request's links start with: that of the host the person is on,
where their flow began (its session opens on that host only: web/sessions.py). A host name that
is not configured never gets that far (web/hosts.py answers 400) and would get `base_url`. Built
from settings alone, links also work from the CLI: a campaign's mails link to the host that
serves the campaign's theme (`Settings.theme_base_url`), so its people land where their brand is.

Mails show the theme's logo by absolute URL (`logo_url`), not as an attachment: a campaign goes to
100,000 people, and the logo would travel 100,000 times; the portal already serves it, under the
host that serves the theme (its static files are chosen by host). A mail client that holds back
remote images still shows the portal's title beside it (templates/mail/base.html).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l

from ...branding import Theme
from ...settings import ACTION_BUILTIN, Settings

# settings key -> (title, theme text with its description, endpoint of the built-in flow)
ACTIONS = (
    ("reset", _l("Reset my password"), "reset_description", "reset.start"),
    ("register", _l("Register or update my security info"), "register_description", "register.index"),
    ("change", _l("Change my password"), "change_description", "change.index"),
)


@dataclass(frozen=True)
class Action:
    key: str
    title: str
    description_key: str
    url: str
    external: bool


def external_url(endpoint: str, base_url: str | None = None, **values: Any) -> str:
    """The absolute URL of `endpoint` under `base_url`, by default the request's host's configured
    base URL (outside a request, or for a host not served: the top-level base_url)."""
    base = urlsplit(base_url or _request_base_url(current_app.extensions["settings"]))
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def _request_base_url(settings: Settings) -> str:
    """The configured base URL of the host this request came to, else base_url."""
    served = settings.host(request.host) if has_request_context() else None
    return served.base_url if served is not None else settings.base_url


def logo_url(settings: Settings, theme: Theme) -> str | None:
    """The theme's logo, absolute, on a host that serves the theme; None when it has no logo."""
    if not theme.file.logo:
        return None
    return external_url("assets.static", settings.theme_base_url(theme.name), filename=theme.file.logo)


def available_actions(settings: Settings) -> list[Action]:
    """Actions pointing at an external URL, or at a built-in flow this portal actually has."""
    actions = []
    for key, title, description_key, endpoint in ACTIONS:
        target = getattr(settings.actions, key)
        if target == ACTION_BUILTIN and key == "reset" and settings.rollout.reset == "nobody":
            continue  # not rolled out yet: no link to a flow that would only send people away
        if target != ACTION_BUILTIN:
            actions.append(Action(key, str(title), description_key, target, external=True))
        elif endpoint in current_app.view_functions:
            actions.append(Action(key, str(title), description_key, url_for(endpoint), external=False))
    return actions


def action_url(settings: Settings, key: str, build: Callable[[str], str] = url_for) -> str:
    """Where action `key` is done: its URL in [actions], else its built-in page (built with `build`),
    else the landing page (a flow this portal does not have)."""
    target: str = getattr(settings.actions, key)
    if target != ACTION_BUILTIN:
        return target
    endpoint = next(endpoint for k, _title, _description, endpoint in ACTIONS if k == key)
    return build(endpoint if endpoint in current_app.view_functions else "landing.index")


def mail_links(settings: Settings, base_url: str | None = None) -> dict[str, str]:
    """`portal_url` and `<action>_url` for reset, register and change, absolute (mails leave the site),
    under `base_url` (by default the request's host's)."""
    build = partial(external_url, base_url=base_url)
    links = {"portal_url": build("landing.index")}
    for key, _title, _description, _endpoint in ACTIONS:
        links[f"{key}_url"] = action_url(settings, key, build)
    return links
