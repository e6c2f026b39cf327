"""Who may enter a staff area (/admin, /helpdesk), and whether their sign-in is fresh enough.

Both answers come from the current sign-in only (the groups claim and auth_time of the ID token,
kept on the server in the session), never from the database or a form: an administrator removed
from the group at the identity provider loses access at their next sign-in, and nothing a
browser sends can make someone an administrator.

Auditors ask who looked at personal data: `record_access` puts each page and file served to an
administrator (and each refusal) on record.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from ...settings.admin import StaffAreaSettings
from ..container import Collaborators
from ..registration.rollout import member_of_any
from ..security import audit


def is_member(settings: StaffAreaSettings, groups: Iterable[str]) -> bool:
    """Whether the groups of a sign-in name one of the area's groups (administrators, agents)."""
    return member_of_any(groups, settings.groups)


def signed_in_recently(settings: StaffAreaSettings, auth_time: int, now: datetime) -> bool:
    signed_in_at = datetime.fromtimestamp(auth_time, now.tzinfo)
    return now - signed_in_at <= timedelta(minutes=settings.recent_sign_in_minutes)


def record_access(c: Collaborators, event: str, outcome: str, *, username: str, page: str, path: str,
                  query: str) -> None:
    """Which page or file an administrator was served or refused, with its filters, in a
    transaction of its own: a refusal's rollback or a streamed download cannot lose it."""
    with c.store.transaction() as db:
        audit.record(db, event, outcome, username=username, details={"page": page, "path": path, "query": query})
