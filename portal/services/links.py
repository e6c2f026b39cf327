"""Absolute links that mails put in front of people: the portal, and each of its three actions.

An action is the portal's own flow or the external URL settings name for it (a Microsoft page,
for instance); a built-in flow that does not exist in this portal links to the landing page
rather than to a page that is not there. Everything starts at base_url (see web/urls.py).
"""
from __future__ import annotations

from flask import current_app

from ..blueprints.landing import ACTIONS
from ..settings import ACTION_BUILTIN, Settings
from ..web.urls import external_url


def mail_links(settings: Settings) -> dict[str, str]:
    """`portal_url` and `<action>_url` for reset, register and change."""
    portal = external_url("landing.index")
    links = {"portal_url": portal}
    for key, _title, _description, endpoint in ACTIONS:
        target = getattr(settings.actions, key)
        if target != ACTION_BUILTIN:
            links[f"{key}_url"] = target
        else:
            links[f"{key}_url"] = external_url(endpoint) if endpoint in current_app.view_functions else portal
    return links
