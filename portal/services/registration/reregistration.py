"""IT's "require re-registration" for one person or a group (/admin and the CLI share it).

The request is a moment on the person's security profile: from then on enforcement (policy.status,
reason REQUESTED) interrupts their next sign-in or /enforce visit until they confirm their info
after it, even info only IT maintains. The "not now" allowance starts afresh, as for any new
request. Each person asked is on record with who asked, in the transaction that asks.

Only people the portal does anything for can be asked: in the rollout scope, not protected, not
disabled (the same scope as campaigns and reports, campaigns/population.py). A group's members
are read from the directory as it is now, not from the standings of the last `reports refresh`.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from ...adapters.directory import DirectoryUnavailable as DirectoryUnavailable  # for the callers
from ...adapters.directory import DirectoryUser
from ..campaigns.population import in_scope
from ..container import Collaborators
from ..proofs import security_info
from ..security import audit

EVENT_REQUESTED = "registration.reregistration_requested"
MAX_NAME = 256


class NotAsked(Exception):
    """Nobody was asked; the message says why, in words for the administrator."""


@dataclass(frozen=True)
class Asked:
    logins: tuple[str, ...]


def for_person(c: Collaborators, login: str, *, by: str) -> Asked:
    """Ask the person named `login` (login name or email). Raises NotAsked, DirectoryUnavailable."""
    login = _name(login, _("Give a login name or email of 1 to %(most)d characters.", most=MAX_NAME))
    user = c.directory.find_user(login)
    if user is None:
        raise NotAsked(_("The directory has no person named %(login)s.", login=repr(login)))
    if not in_scope(c.settings, user):
        raise NotAsked(_("%(login)s is outside the rollout, protected or disabled: the portal asks nothing "
                         "of them.", login=user.login))
    return _ask(c, [user], by=by, group=None)


def for_group(c: Collaborators, group: str, *, by: str) -> Asked:
    """Ask every member of `group` (name or DN) in scope. Raises NotAsked, DirectoryUnavailable."""
    group = _name(group, _("Give a group name or DN of 1 to %(most)d characters.", most=MAX_NAME))
    # from the directory itself, not the standings of the last refresh: who is a member now
    members = [user for user in c.directory.people() if in_scope(c.settings, user) and user.in_group(group)]
    if not members:
        raise NotAsked(_("Nobody in the rollout scope is a member of %(group)s.", group=repr(group)))
    return _ask(c, members, by=by, group=group)


def _name(value: str, refusal: str) -> str:
    value = value.strip()
    if not 0 < len(value) <= MAX_NAME:
        raise NotAsked(refusal)
    return value


def _ask(c: Collaborators, people: list[DirectoryUser], *, by: str, group: str | None) -> Asked:
    with c.store.transaction() as db:
        now = c.clock.utcnow()
        for user in people:
            security_info.request_reregistration(db, user, now)
            audit.record(db, EVENT_REQUESTED, audit.SUCCESS, username=user.login,
                         details={"by": by[:MAX_NAME], **({"group": group} if group else {})})
    return Asked(tuple(user.login for user in people))
