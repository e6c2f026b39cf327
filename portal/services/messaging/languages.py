"""Which language a mail to a person is written in: the one they last used the portal in, else
their directory entry's preferredLanguage, else [i18n] default.

"Last used" is recorded when a person finishes something they proved they are entitled to do
(a reset or unlock after verification, a password change with the current password, a change
to their own security info while signed in), never merely for typing an account's name: someone
else's failed attempts must not change the language that account's owner is written to in.
A mail sent during the person's own request (a code, the notice of a change they just made) is
in the request's language, which is what they just used; mail sent later or by the CLI (campaigns,
expiry reminders, the notice that a reset was paused) looks the person up here.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from flask import current_app, has_request_context
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from ... import clock
from ...adapters.directory.model import DirectoryUser
from ...branding.catalogues import negotiate
from ...settings.languages import LanguageSettings
from ...store.languages import LANGUAGE_LENGTH, PersonLanguage
from ...store.standings import PersonStanding

CHUNK = 500  # directory ids per IN (...) list


def _settings() -> LanguageSettings:
    languages: LanguageSettings = current_app.extensions["settings"].i18n
    return languages


def choose(used: str | None, preferred: str | None) -> str:
    """The mail language from what is known of a person: the language last used (when still
    offered), else the best offered match of the directory's value ("de-CH", "fr, en;q=0.5"),
    else the default."""
    languages = _settings()
    if used in languages.languages:
        return used
    match = negotiate(parse_accept_header(preferred, LanguageAccept), languages.languages) if preferred else None
    return match or languages.default


def remember(db: Session, user: DirectoryUser) -> None:
    """Record the request's language as the one `user` last used (outside a request: nothing)."""
    if not has_request_context():
        return
    row = {"directory_id": user.directory_id, "language": str(get_locale())[:LANGUAGE_LENGTH],
           "used_at": clock.utcnow()}
    insert = (postgresql if db.get_bind().dialect.name == "postgresql" else sqlite).insert(PersonLanguage)
    db.execute(insert.values(row).on_conflict_do_update(
        index_elements=["directory_id"], set_={"language": row["language"], "used_at": row["used_at"]}))


def for_person(db: Session, user: DirectoryUser) -> str:
    """The language to write to `user` in (their entry read from the directory just now)."""
    used = db.scalar(select(PersonLanguage.language).where(PersonLanguage.directory_id == user.directory_id))
    return choose(used, user.preferred_language)


def for_people(db: Session, directory_ids: Iterable[str]) -> dict[str, str]:
    """directory id -> the language to write in, for people known from the standings (campaigns):
    the language last used, else the preferredLanguage the last `reports refresh` read."""
    ids = list(directory_ids)
    used = last_used(db, ids)
    preferred: dict[str, str | None] = {}
    for chunk in _chunks(ids):
        preferred |= dict(db.execute(select(PersonStanding.directory_id, PersonStanding.preferred_language)
                                     .where(PersonStanding.directory_id.in_(chunk))).all())
    return {i: choose(used.get(i), preferred.get(i)) for i in ids}


def last_used(db: Session, directory_ids: list[str]) -> dict[str, str]:
    """directory id -> the language last used, for those of `directory_ids` who have used the portal."""
    found: dict[str, str] = {}
    for chunk in _chunks(directory_ids):
        found |= dict(db.execute(select(PersonLanguage.directory_id, PersonLanguage.language)
                                 .where(PersonLanguage.directory_id.in_(chunk))).all())
    return found


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    return (ids[start:start + CHUNK] for start in range(0, len(ids), CHUNK))


def default_language() -> str:
    """The language of mail to no one in particular (IT's addresses)."""
    return _settings().default
