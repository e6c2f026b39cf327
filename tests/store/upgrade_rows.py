"""What an installation holds at each schema revision, for tests/store/test_upgrades.py.

ROWS maps every revision in portal/store/migrations to the rows a portal at that revision would
have written: the test upgrades an empty database one revision at a time and inserts each
revision's rows right after its upgrade, in that revision's own columns (plain SQL through
`Rows.add`, never the models, which follow the newest schema). A new migration adds its entry here
(rows of the tables it creates or fills; an empty function if it only adds indexes): the test
fails, naming the revision, until it has one.

The rows are read back after the upgrade to the newest revision (and every model loads them); a
migration that renames or reshapes a column changes what an earlier entry expects to read back.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection


USERNAME = "alice"
DISPLAY_NAME = "Alice Example"
DIRECTORY_ID = "4f0c9c1e-upgrade-test-alice"


@dataclass
class Inserted:
    table: str
    key: dict[str, Any]       # the columns that find the row again
    values: dict[str, Any]    # what must still read back after the upgrade


@dataclass
class Rows:
    """The rows inserted so far, and the cookie of the session an old browser still holds."""

    now: datetime
    connection: Connection | None = None  # the revision's own connection, set before its rows are added
    inserted: list[Inserted] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    session_token: str = ""

    def add(self, table: str, values: dict[str, Any], *, key: str = "id", name: str = "") -> int | None:
        """INSERT one row; an integer key comes back from the database (and is kept under `name`)."""
        columns = [sa.column(column, column_type(value)) for column, value in values.items()]
        statement = sa.table(table, *columns).insert().values(values)
        assert self.connection is not None
        if key in values:
            self.connection.execute(statement)
            self.inserted.append(Inserted(table, {key: values[key]}, values))
            return None
        new_id = int(self.connection.execute(statement.returning(sa.column(key))).scalar_one())
        self.inserted.append(Inserted(table, {key: new_id}, values))
        if name:
            self.ids[name] = new_id
        return new_id


def column_type(value: object) -> sa.types.TypeEngine[Any] | None:
    """Typed like the models' columns where the driver needs it (moments with zone, days, JSON)."""
    if isinstance(value, datetime):
        return sa.DateTime(timezone=True)
    if isinstance(value, date):
        return sa.Date()
    if isinstance(value, (dict, list)):
        return sa.JSON()
    return None


def users_and_sessions(rows: Rows) -> None:
    """0001: Alice signed in, her browser still holds the session."""
    user_id = rows.add("users", {"issuer": "https://idp.example.test", "subject": "sub-alice",
                                 "username": USERNAME, "email": "alice@example.test",
                                 "display_name": DISPLAY_NAME, "created_at": rows.now,
                                 "last_sign_in_at": rows.now}, name="user")
    rows.session_token = secrets.token_urlsafe(32)
    rows.add("web_sessions", {
        "token_hash": hashlib.sha256(rows.session_token.encode()).hexdigest(),
        "data": {"user": {"user_id": user_id, "username": USERNAME, "display_name": DISPLAY_NAME,
                          "email": "alice@example.test", "groups": ["staff"],
                          "auth_time": int(rows.now.timestamp())}},
        "created_at": rows.now, "last_seen_at": rows.now}, key="token_hash")


def security_info_audit_outbox(rows: Rows) -> None:
    """0002: Alice registered two methods and answers, a code is pending, a reset was audited, mail was sent."""
    profile = rows.add("security_profiles", {"directory_id": DIRECTORY_ID, "username": USERNAME,
                                             "confirmed_at": rows.now, "created_at": rows.now,
                                             "updated_at": rows.now}, name="profile")
    rows.add("auth_methods", {"profile_id": profile, "kind": "email", "destination": "alice.private@mail.example",
                              "sealed_secret": None, "last_used_step": None, "source": "portal",
                              "created_at": rows.now, "updated_at": rows.now})
    rows.add("auth_methods", {"profile_id": profile, "kind": "totp", "destination": None,
                              "sealed_secret": "gAAAA-sealed-totp-secret", "last_used_step": 59_000_000,
                              "source": "portal", "created_at": rows.now, "updated_at": rows.now})
    rows.add("security_answers", {"profile_id": profile, "question_key": "first_school",
                                  "answer_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
                                  "created_at": rows.now})
    rows.add("one_time_codes", {"owner": DIRECTORY_ID, "purpose": "reset", "channel": "email",
                                "code_hash": "0" * 64, "attempts": 1, "created_at": rows.now,
                                "expires_at": rows.now + timedelta(minutes=10), "used_at": None,
                                "voided_at": None})
    rows.add("audit_events", {"at": rows.now, "event": "reset.completed", "username": USERNAME,
                              "ip": "203.0.113.7", "outcome": "success", "reason": None,
                              "request_id": "req-before-upgrade", "details": {"methods": ["email", "totp"]}})
    rows.add("outbox_messages", {"channel": "email", "purpose": "password-notice", "payload": None,
                                 "status": "sent", "attempts": 1, "created_at": rows.now,
                                 "next_attempt_at": rows.now, "expires_at": None, "sent_at": rows.now,
                                 "claim_token": None, "claimed_until": None, "last_error": None,
                                 "dedupe_key": "notice-alice-1"})


def reset_flows(rows: Rows) -> None:
    """0003: a reset under way in Alice's browser, and a paused account."""
    rows.add("reset_flows", {"id": secrets.token_urlsafe(32), "session_key_hash": "1" * 64,
                             "account_key": DIRECTORY_ID, "login": USERNAME, "guard_key": "2" * 64,
                             "state": "verifying", "step": 1, "methods_required": 2,
                             "methods_done": ["email"], "pending": {"method": "totp"},
                             "created_at": rows.now, "updated_at": rows.now,
                             "expires_at": rows.now + timedelta(minutes=15), "lease_until": None})
    rows.add("account_guards", {"key": "account:" + "3" * 64, "failures": 2, "window_started_at": rows.now,
                                "paused_until": rows.now + timedelta(minutes=5)}, key="key")


def campaigns(rows: Rows) -> None:
    """0004: a campaign half sent."""
    campaign = rows.add("campaigns", {"template": "available_now", "audience": "unregistered", "group": None,
                                      "theme": "default", "status": "sending", "created_by": "erin",
                                      "created_at": rows.now, "started_by": "erin", "started_at": rows.now,
                                      "finished_at": None, "sender_seen_at": rows.now}, name="campaign")
    for person, status in (("bob", "queued"), ("carol", "pending")):
        rows.add("campaign_recipients", {"campaign_id": campaign, "directory_id": f"id-{person}",
                                         "username": person, "display_name": person.title(),
                                         "email": f"{person}@example.test", "status": status,
                                         "queued_at": rows.now if status == "queued" else None})


def session_owner(rows: Rows) -> None:
    """0005 adds only a column to web_sessions; the sessions from before read as belonging to nobody."""


def standings(rows: Rows) -> None:
    """0006: Alice counted by a reports refresh, in one group, and the refresh that counted her."""
    rows.add("standings", {"directory_id": DIRECTORY_ID, "login": USERNAME, "login_key": USERNAME,
                           "display_name": DISPLAY_NAME, "email": "alice@example.test", "in_scope": True,
                           "required": 2, "counted": "\x1femail\x1ftotp\x1f", "registered": True,
                           "registered_since": rows.now, "registered_day": rows.now.date(),
                           "confirmed_at": rows.now, "seen_at": rows.now}, key="directory_id")
    rows.add("standing_groups", {"group_key": "staff", "directory_id": DIRECTORY_ID}, key="group_key")
    rows.add("standings_refreshes", {"started_at": rows.now, "finished_at": rows.now, "people": 1})


def snooze_enforcement(rows: Rows) -> None:
    """0007 adds only columns to security_profiles; the profiles from before read as no "not now"
    used and no re-registration asked for."""


def webhooks(rows: Rows) -> None:
    """0008 adds only columns (and an index): mail from before has no webhook endpoint, and no
    profile had a deadline reported."""


def languages(rows: Rows) -> None:
    """0009: Alice last used the portal in French (standings gain a column, read as no preferred language)."""
    rows.add("person_languages", {"directory_id": DIRECTORY_ID, "language": "fr", "used_at": rows.now},
             key="directory_id")


ROWS: dict[str, Callable[[Rows], None]] = {
    "0001": users_and_sessions,
    "0002": security_info_audit_outbox,
    "0003": reset_flows,
    "0004": campaigns,
    "0005": session_owner,
    "0006": standings,
    "0007": snooze_enforcement,
    "0008": webhooks,
    "0009": languages,
}
