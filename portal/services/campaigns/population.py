"""The people the portal serves and where each one stands with registration, kept in the store.

Campaign audiences, coverage reports and "due to re-confirm" lists all count the same rows: the
standings table (store/standings.py), one row per account the directory holds. Reading the
whole directory and every security profile per request took half a minute and over a gigabyte
at 100,000 people; the rows are written instead

- by `refresh` (`flask --app wsgi reports refresh`, on a timer): it streams `Directory.people()`
  and the matching profiles in batches of BATCH, each batch its own short transaction (so a
  registration waiting on a row lock never waits for the whole pass), then deletes the rows it
  did not see (people who left) and records when it ran;
- by `record_person`, in the transaction of every registration change, so a person's numbers are
  current between refreshes (what only the directory changes, such as groups, waits for the next).
  A change committed while a refresh batch is between reading that person's profile and writing
  the row is overwritten with what the batch read; the next refresh (or change) corrects it.

Scope: with reset rolled out to groups, the members of those groups; otherwise everybody the
directory search returns (with `nobody`, that is whom a "coming soon" campaign is for).
Protected and disabled accounts are never in scope: the portal does nothing for them.

Re-confirmation depends on the time, so it is not stored: `reconfirm_due` compares the stored
`confirmed_at` with now in SQL.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, insert, select, text, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from ... import clock
from ...adapters.directory import DirectoryUser
from ...settings import Settings
from ...store import rows_changed
from ...store.security_info import SecurityProfile
from ...store.languages import LANGUAGE_LENGTH
from ...store.standings import SEP, PersonStanding, StandingGroup, StandingsRefresh
from ..container import Collaborators
from ..proofs import security_info
from ..proofs.methods import REGISTRY, Registers
from ..registration.policy import MISSING, Policy, policy_for, status
from ..registration.rollout import member_of_any

BATCH = 500       # people per refresh transaction (and per profile query)
KEEP_RUNS = 10    # refresh records kept, newest first
SINCE_ALWAYS = datetime.min.replace(tzinfo=UTC)
# Column sizes: a value the directory holds beyond them must not stop the refresh for everybody
# (an address that long is no address to send to; a DN that long is cut, and matches nothing).
MAX_EMAIL, MAX_GROUP_KEY = 320, 1024


@dataclass(frozen=True)
class Refreshed:
    people: int    # rows written (everybody the directory holds)
    removed: int   # rows of people the directory no longer holds
    finished_at: datetime


def manageable(user: DirectoryUser) -> bool:
    """An account the portal does anything for: not on the deny list, not disabled."""
    return not (user.protected or user.state.disabled)


def in_scope(settings: Settings, user: DirectoryUser) -> bool:
    rollout = settings.rollout
    return manageable(user) and (rollout.reset != "group" or member_of_any(user.groups, rollout.groups))


# ---- writing the rows ----

def refresh(c: Collaborators) -> Refreshed:
    """One pass over the directory: upsert everybody, delete who left, record the run.

    Raises DirectoryUnavailable; then nothing is deleted (a listing cut short must not remove
    the people after the cut) and the run stays unfinished, so the pages keep showing the
    previous refresh. The batches already written stay: they are as current as anything else."""
    started = clock.utcnow()
    with c.store.transaction() as db:
        run = StandingsRefresh(started_at=started)
        db.add(run)
        db.flush()
        run_id = run.id
    people = 0
    for batch in _batches(c.directory.people()):
        with c.store.transaction() as db:
            record_people(db, c.settings, batch, started)
        people += len(batch)
    with c.store.transaction() as db:
        removed = rows_changed(db, delete(PersonStanding).where(PersonStanding.seen_at < started))
        run = db.get_one(StandingsRefresh, run_id)
        finished = run.finished_at = clock.utcnow()
        run.people = people
        old = select(StandingsRefresh.id).order_by(StandingsRefresh.id.desc()).offset(KEEP_RUNS)
        db.execute(delete(StandingsRefresh).where(StandingsRefresh.id.in_(old.scalar_subquery())))
        _analyze(db)
    return Refreshed(people, removed, finished)


def _analyze(db: Session) -> None:
    """Fresh planner statistics for the tables just rewritten: on a first refresh PostgreSQL has
    none (autovacuum comes later), and guesses of "9 members" for a group of 10,000 made a
    grouped report take minutes. SQLite plans by its indexes alone."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text(f"ANALYZE {PersonStanding.__tablename__}, {StandingGroup.__tablename__}"))


def record_person(db: Session, settings: Settings, user: DirectoryUser) -> None:
    """Bring one person's row up to date after a change to their registration (in its transaction)."""
    record_people(db, settings, [user], clock.utcnow())


def record_people(db: Session, settings: Settings, users: list[DirectoryUser], seen_at: datetime) -> None:
    """Upsert the rows of `users`, their profiles read in one query."""
    profiles = {p.directory_id: p for p in db.scalars(
        select(SecurityProfile).where(SecurityProfile.directory_id.in_([u.directory_id for u in users]))
        .options(selectinload(SecurityProfile.methods), selectinload(SecurityProfile.answers)))}
    policies: dict[frozenset[str], Policy] = {}  # people share a few group sets; a policy costs 0.4 ms
    rows = []
    for user in users:
        if user.groups not in policies:
            policies[user.groups] = policy_for(settings, user.groups)
        rows.append(standing_row(settings, user, profiles.get(user.directory_id), seen_at, policies[user.groups]))
    if rows:
        _upsert(db, rows)
        _replace_groups(db, users)


def standing_row(settings: Settings, user: DirectoryUser, profile: SecurityProfile | None,
                 seen_at: datetime, policy: Policy) -> dict[str, Any]:
    """Everything reports and audiences ask about one person (under `policy`, theirs), computed
    as enforcement does."""
    registration = settings.registration
    info = security_info.from_profile(profile, user, registration.directory_methods, registration.phone)
    counted = policy.counted(info)
    registered = status(settings, policy, info, seen_at).reason != MISSING
    since = _registered_since(profile, counted, policy.required) if registered else None
    return {
        "directory_id": user.directory_id, "login": user.login[:255], "login_key": user.login.lower()[:255],
        "display_name": user.display_name[:255], "email": user.email if len(user.email or "") <= MAX_EMAIL else None,
        "preferred_language": (user.preferred_language or "")[:LANGUAGE_LENGTH] or None,
        "in_scope": in_scope(settings, user), "required": policy.required, "counted": _delimited(counted),
        "registered": registered, "registered_since": since, "registered_day": since.date() if since else None,
        "confirmed_at": info.confirmed_at, "seen_at": seen_at,
    }


def _registered_since(profile: SecurityProfile | None, counted: list[str], required: int) -> datetime | None:
    """When the person first had as many counted methods as they need."""
    moments = sorted(_method_since(profile, kind) for kind in counted)
    return moments[required - 1] if len(moments) >= required else None


def _method_since(profile: SecurityProfile | None, kind: str) -> datetime:
    """When a counted method was first registered (a method keeps its first date when changed);
    a method only the directory holds (no row here) has been there as long as the portal can tell."""
    if profile is None:
        return SINCE_ALWAYS
    if REGISTRY[kind].registers is Registers.ANSWERS:
        return max((clock.as_utc(a.created_at) for a in profile.answers), default=SINCE_ALWAYS)
    own = next((m for m in profile.methods if m.kind == kind), None)
    return clock.as_utc(own.created_at) if own else SINCE_ALWAYS


def _upsert(db: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE, the form both supported databases share, sent as one
    statement with many parameter sets (compiled once; a VALUES list of 500 rows took longer to
    compile than to run)."""
    table = PersonStanding.__table__
    statement = (postgresql if db.get_bind().dialect.name == "postgresql" else sqlite).insert(table)
    columns = {name: statement.excluded[name] for name in rows[0] if name != "directory_id"}
    db.connection().execute(statement.on_conflict_do_update(index_elements=["directory_id"], set_=columns), rows)


def _replace_groups(db: Session, users: list[DirectoryUser]) -> None:
    """The memberships of `users` as the directory holds them now (by name and by DN)."""
    db.execute(delete(StandingGroup).where(StandingGroup.directory_id.in_([u.directory_id for u in users])))
    rows = [{"directory_id": user.directory_id, "group_key": key} for user in users
            for key in sorted({g.casefold()[:MAX_GROUP_KEY] for g in (*user.groups, *user.group_dns)})]
    if rows:
        db.execute(insert(StandingGroup), rows)


def _batches(people: Iterable[DirectoryUser]) -> Iterator[list[DirectoryUser]]:
    found = iter(people)
    while batch := list(itertools.islice(found, BATCH)):
        yield batch


def _delimited(items: Iterable[str]) -> str:
    return SEP + "".join(f"{item}{SEP}" for item in items)


# ---- reading them ----

def last_refresh(db: Session) -> datetime | None:
    """When the newest finished refresh finished; None before the first one."""
    at = db.scalar(select(StandingsRefresh.finished_at).where(StandingsRefresh.finished_at.is_not(None))
                   .order_by(StandingsRefresh.finished_at.desc()).limit(1))
    return clock.as_utc(at) if at else None


def in_group(group: str | None) -> ColumnElement[bool]:
    """Members of `group` (name or DN, case aside, as DirectoryUser.in_group); everybody for None.
    A correlated EXISTS: one primary-key probe per person, whatever plan the database picks."""
    if not group:
        return true()
    return select(StandingGroup.directory_id).where(
        StandingGroup.group_key == group.casefold(), StandingGroup.directory_id == PersonStanding.directory_id).exists()


def scope(group: str | None = None) -> ColumnElement[bool]:
    """People in scope, optionally only the members of `group`."""
    return and_(PersonStanding.in_scope.is_(True), in_group(group))


def has_method(kind: str) -> ColumnElement[bool]:
    """The person's counted methods include `kind`."""
    return PersonStanding.counted.contains(f"{SEP}{kind}{SEP}", autoescape=True)


def reconfirm_due(settings: Settings, now: datetime) -> ColumnElement[bool]:
    """Enough methods, confirmed longer than reconfirm_days ago (never: IT's data, not due)."""
    days = settings.registration.reconfirm_days
    if days <= 0:
        return false()
    return and_(PersonStanding.registered.is_(True), PersonStanding.confirmed_at.is_not(None),
                PersonStanding.confirmed_at < now - timedelta(days=days))
