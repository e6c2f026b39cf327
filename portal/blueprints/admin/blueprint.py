"""/admin: settings, rollout and readiness, campaigns, reports and the audit log, for IT only.

Every route of the blueprint passes `_administrators_only` first, so a page added later cannot
forget the check: the person must be signed in, their CURRENT sign-in's groups claim must name
an administrator group, and anything that changes state (every POST) needs a sign-in at most
`admin.recent_sign_in_minutes` old, else the provider is asked to sign them in again.

Auditors ask who looked at personal data: a refused person is on record, and so is every page
and file the blueprint served (who, which page, which filters), written before the data leaves.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, request, url_for
from flask.typing import ResponseReturnValue

from ...services.container import collaborators
from ...services.identity.admin_access import is_member, record_access
from ...services.identity.redirects import safe_next_path
from ...services.security.audit import REFUSED, SUCCESS
from ...settings import Settings
from ...web.identity import current_user
from ...web.reauthentication import reauthenticate
from ...web.staff_area import guard

bp = Blueprint("admin", __name__, url_prefix="/admin")
REAUTH_ENDPOINT = "admin.reauth"
EVENT_REFUSED = "admin.refused"
EVENT_VIEWED = "admin.viewed"
EVENT_DOWNLOADED = "admin.downloaded"
MAX_QUERY_CHARS = 500


def settings() -> Settings:
    return collaborators().settings


def administrator() -> str:
    """The signed-in administrator's username (the guard has run)."""
    user = current_user()
    assert user is not None
    return user.username


@bp.before_request
def _administrators_only() -> ResponseReturnValue | None:
    # admin forms post to "<page>/<action>": come back to the page, then submit again
    return guard(settings().admin, reauth_endpoint=REAUTH_ENDPOINT, fresh=request.method != "GET",
                 back_to=request.path.rsplit("/", 1)[0],
                 refused=lambda username: _record(EVENT_REFUSED, REFUSED, username))


@bp.after_request
def _record_what_was_served(response: Response) -> Response:
    """Put every page and file served to an administrator on record before it leaves."""
    user = current_user()
    if request.method == "GET" and response.status_code == 200 and user is not None:
        downloaded = response.headers.get("Content-Disposition", "").startswith("attachment")
        _record(EVENT_DOWNLOADED if downloaded else EVENT_VIEWED, SUCCESS, user.username)
    return response


def _record(event: str, outcome: str, username: str) -> None:
    record_access(collaborators(), event, outcome, username=username, page=request.endpoint or "",
                  path=request.path, query=urlencode(sorted(request.args.items(multi=True)))[:MAX_QUERY_CHARS])


@bp.context_processor
def _request_values() -> dict[str, object]:
    """What admin pages show of the request, as plain values (templates render sandboxed)."""
    return {"query": request.args.to_dict(), "current_endpoint": request.endpoint}


@bp.app_context_processor
def _administration_link() -> dict[str, object]:
    """Whether the page header links to /admin: for exactly those the guard above lets in (the same
    check on the current sign-in's groups claim), so nobody else is shown a way to a 403."""
    user = current_user()
    return {"show_administration": user is not None and is_member(settings().admin, user.groups)}


@bp.get("/reauth")
def reauth() -> ResponseReturnValue:
    """Ask the provider to sign the administrator in again, then come back to the admin page."""
    return reauthenticate(_admin_path(request.args.get("next")))


def _admin_path(value: str | None) -> str:
    path = safe_next_path(value, url_for("admin.index"))
    return path if path.startswith(url_for("admin.index")) else url_for("admin.index")

