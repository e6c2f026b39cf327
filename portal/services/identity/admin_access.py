"""Who is a portal administrator, and whether their sign-in is fresh enough to change things.

Both answers come from the current sign-in only (the groups claim and auth_time of the ID token,
kept on the server in the session), never from the database or a form: an administrator removed
from the group at the identity provider loses access at their next sign-in, and nothing a
browser sends can make someone an administrator.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from ...settings.admin import AdminSettings
from ..registration.rollout import member_of_any


def is_administrator(settings: AdminSettings, groups: Iterable[str]) -> bool:
    return member_of_any(groups, settings.groups)


def signed_in_recently(settings: AdminSettings, auth_time: int, now: datetime) -> bool:
    signed_in_at = datetime.fromtimestamp(auth_time, now.tzinfo)
    return now - signed_in_at <= timedelta(minutes=settings.recent_sign_in_minutes)
