"""One-time codes sent by mail or SMS: random, short-lived, single use, few tries, hashed at rest.

A code is bound to its owner (the account), the purpose (say "register-email" or "reset") and the destination
it was sent to: the keyed hash covers all four, so a code can never be replayed for another
account, another step or another address. Issuing a new code voids the older ones for the same
person and purpose; too many wrong tries void the code. Every try is counted before it is compared
(CodeBook.check), so no number of parallel tries compares one code more than max_attempts times.
"""
from __future__ import annotations

import enum
import hmac
import re
import secrets
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ... import clock
from ...settings.registration import CodeSettings
from ...store import rows_changed
from ...store.security_info import OneTimeCode
from ..security.crypto import keyed_hash

HASH_PURPOSE = "one-time-code"
SEPARATORS = re.compile(r"[\s-]")  # what people type between groups of digits: "123 456", "123-456"
DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: "١٢٣٤٥٦" and "１２３４５６" pass str.isdigit()


def typed_code(typed: str | None) -> str:
    """What was typed as a one-time code (mailed, texted or an app's), separators removed; ""
    unless that leaves 1 to 10 ASCII digits. "" matches no code and counts as a wrong try, so
    text that is not a code gets the answer of a wrong code, for every account alike."""
    candidate = SEPARATORS.sub("", typed or "")
    return candidate if DIGITS.fullmatch(candidate) else ""


class CodeCheck(enum.Enum):
    VALID = "valid"
    WRONG = "wrong"
    SPENT = "spent"  # this wrong try was the last one allowed: the code is void now
    EXPIRED = "expired"
    MISSING = "missing"  # none in flight: never sent, already used, voided or replaced


class CodeBook:
    """Issues and checks codes with the settings of [codes] and a key derived from secret_key."""

    def __init__(self, settings: CodeSettings, secret_key: str) -> None:
        self.settings = settings
        self._secret_key = secret_key

    @property
    def valid_for(self) -> timedelta:
        return timedelta(minutes=self.settings.valid_minutes)

    def _hash(self, owner: str, purpose: str, destination: str, code: str) -> str:
        return keyed_hash(self._secret_key, HASH_PURPOSE, owner, purpose, destination, code)

    def issue(self, db: Session, *, owner: str, purpose: str, channel: str, destination: str) -> str:
        """A fresh code (the only copy: put it in the message, never in a log); older ones stop working."""
        now = clock.utcnow()
        db.execute(update(OneTimeCode)
                   .where(OneTimeCode.owner == owner, OneTimeCode.purpose == purpose,
                          OneTimeCode.used_at.is_(None), OneTimeCode.voided_at.is_(None))
                   .values(voided_at=now))
        code = f"{secrets.randbelow(10 ** self.settings.digits):0{self.settings.digits}d}"
        db.add(OneTimeCode(owner=owner, purpose=purpose, channel=channel, attempts=0,
                           code_hash=self._hash(owner, purpose, destination, code),
                           created_at=now, expires_at=now + self.valid_for))
        db.flush()
        return code

    def check(self, db: Session, *, owner: str, purpose: str, destination: str, typed: str) -> CodeCheck:
        """Count the try, then compare in constant time; a right code is used up (once, even under races).

        Only a try whose count was accepted gets compared, so parallel tries in any number of
        processes make at most max_attempts comparisons of one code.
        """
        now = clock.utcnow()
        row = db.scalar(select(OneTimeCode)
                        .where(OneTimeCode.owner == owner, OneTimeCode.purpose == purpose,
                               OneTimeCode.used_at.is_(None), OneTimeCode.voided_at.is_(None))
                        .order_by(OneTimeCode.id.desc()).limit(1))
        if row is None:
            return CodeCheck.MISSING
        if clock.as_utc(row.expires_at) <= now:
            self._void(db, row.id, now)
            return CodeCheck.EXPIRED
        candidate = typed_code(typed)
        attempt = self._count_try(db, row.id)
        if attempt is None:
            return CodeCheck.MISSING  # used, voided or out of tries since it was read: nothing compared
        if hmac.compare_digest(self._hash(owner, purpose, destination, candidate), row.code_hash):
            used = rows_changed(db, update(OneTimeCode)
                                .where(OneTimeCode.id == row.id, OneTimeCode.used_at.is_(None),
                                       OneTimeCode.voided_at.is_(None))
                                .values(used_at=now))
            return CodeCheck.VALID if used == 1 else CodeCheck.MISSING
        if attempt >= self.settings.max_attempts:
            self._void(db, row.id, now)
            return CodeCheck.SPENT
        return CodeCheck.WRONG

    def _count_try(self, db: Session, code_id: int) -> int | None:
        """This try's number, counted by one conditional UPDATE before anything is compared.

        None when the code has no try left or stopped being live since it was read: the UPDATE
        changed no row. The row stays locked until the transaction ends, so the comparison and
        what follows it (use, void) happen before any parallel try of the same code is counted.
        """
        return db.scalar(update(OneTimeCode)
                         .where(OneTimeCode.id == code_id, OneTimeCode.used_at.is_(None),
                                OneTimeCode.voided_at.is_(None),
                                OneTimeCode.attempts < self.settings.max_attempts)
                         .values(attempts=OneTimeCode.attempts + 1)
                         .returning(OneTimeCode.attempts))

    @staticmethod
    def _void(db: Session, code_id: int, now: datetime) -> None:
        db.execute(update(OneTimeCode).where(OneTimeCode.id == code_id).values(voided_at=now))

    def purge(self, db: Session, older_than: timedelta = timedelta(days=1)) -> int:
        """Delete codes that expired long ago (they are useless, and hashes are still data)."""
        return rows_changed(db, delete(OneTimeCode).where(OneTimeCode.expires_at < clock.utcnow() - older_than))


def init_app(app: Flask, settings: CodeSettings) -> CodeBook:
    book = CodeBook(settings, app.config["SECRET_KEY"])
    app.extensions["codes"] = book
    return book
