"""One-time codes: random, hashed with a key at rest, bound to owner, purpose and destination,
single use, valid at most ten minutes, void after a few wrong tries or when a newer one is sent."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import clock
from portal.services.proofs.codes import CodeBook, CodeCheck
from portal.store.security_info import OneTimeCode

OWNER, PURPOSE, TO = "uuid-of-alice", "register-email", "alice.home@mail.example"


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with app.app_context(), app.extensions["store"].transaction() as session:
        yield session


@pytest.fixture
def book(app: Flask) -> CodeBook:
    return app.extensions["codes"]


def issue(book: CodeBook, db: Session, **overrides: str) -> str:
    values = {"owner": OWNER, "purpose": PURPOSE, "destination": TO, **overrides}
    return book.issue(db, channel="email", **values)


def check(book: CodeBook, db: Session, typed: str, **overrides: str) -> CodeCheck:
    values = {"owner": OWNER, "purpose": PURPOSE, "destination": TO, **overrides}
    return book.check(db, typed=typed, **values)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def test_codes_are_six_random_digits_stored_only_as_a_keyed_hash(book: CodeBook, db: Session) -> None:
    codes = {issue(book, db, owner=f"person-{i}") for i in range(50)}

    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 45  # random, not a counter or a clock
    stored = db.scalars(select(OneTimeCode.code_hash)).all()
    assert not set(stored) & codes
    assert not set(stored) & {hashlib.sha256(code.encode()).hexdigest() for code in codes}  # keyed, not plain


def test_a_code_works_once(book: CodeBook, db: Session) -> None:
    code = issue(book, db)

    assert check(book, db, code) is CodeCheck.VALID
    assert check(book, db, code) is CodeCheck.MISSING


def test_spaces_and_dashes_typed_in_a_code_are_ignored(book: CodeBook, db: Session) -> None:
    code = issue(book, db)

    assert check(book, db, f" {code[:3]}-{code[3:]} ") is CodeCheck.VALID


def in_other_digits(code: str, zero: str) -> str:
    """The same number written with another script's digits (Arabic-Indic, fullwidth...)."""
    return "".join(chr(ord(zero) + int(digit)) for digit in code)


def test_only_ascii_digits_make_a_code(book: CodeBook, db: Session) -> None:
    """Other scripts' digits pass str.isdigit(); here they are simply a wrong try, never a crash."""
    code = issue(book, db)

    for typed in (in_other_digits(code, "\u0660"), in_other_digits(code, "\uff10"), "\u00b2" * 6, "9" * 40):
        assert check(book, db, typed) is CodeCheck.WRONG, ascii(typed)
    assert check(book, db, code) is CodeCheck.VALID


def test_a_code_expires_after_its_minutes(book: CodeBook, db: Session) -> None:
    code = issue(book, db)

    with clock.travel(timedelta(minutes=book.settings.valid_minutes, seconds=1)):
        assert check(book, db, code) is CodeCheck.EXPIRED
    assert check(book, db, code) is CodeCheck.MISSING  # an expired code is void for good


def test_a_code_still_works_just_before_it_expires(book: CodeBook, db: Session) -> None:
    code = issue(book, db)

    with clock.travel(timedelta(minutes=book.settings.valid_minutes, seconds=-5)):
        assert check(book, db, code) is CodeCheck.VALID


def test_too_many_wrong_tries_void_the_code(book: CodeBook, db: Session) -> None:
    code = issue(book, db)
    results = [check(book, db, wrong(code)) for _ in range(book.settings.max_attempts)]

    assert results == [CodeCheck.WRONG] * (book.settings.max_attempts - 1) + [CodeCheck.SPENT]
    assert check(book, db, code) is CodeCheck.MISSING  # even the right code is refused now


def test_a_try_is_counted_before_the_code_is_compared(book: CodeBook, db: Session) -> None:
    code = issue(book, db)
    # every try left was counted by requests still comparing: this one may not compare, even if right
    db.execute(update(OneTimeCode).values(attempts=book.settings.max_attempts))

    assert check(book, db, code) is CodeCheck.MISSING
    assert db.scalar(select(OneTimeCode.attempts)) == book.settings.max_attempts  # never beyond the limit


def test_a_new_code_voids_the_older_one(book: CodeBook, db: Session) -> None:
    first = issue(book, db)
    second = issue(book, db)
    while second == first:  # one chance in a million; the point is which code works
        second = issue(book, db)

    assert check(book, db, first) is CodeCheck.WRONG
    assert check(book, db, second) is CodeCheck.VALID


@pytest.mark.parametrize("other", [{"owner": "uuid-of-bob"}, {"purpose": "step-up"},
                                   {"destination": "attacker@mail.example"}])
def test_a_code_is_bound_to_its_owner_purpose_and_destination(book: CodeBook, db: Session,
                                                               other: dict[str, str]) -> None:
    code = issue(book, db)

    assert check(book, db, code, **other) in (CodeCheck.WRONG, CodeCheck.MISSING)
    assert check(book, db, code) is CodeCheck.VALID  # the failed try elsewhere did not use it up


def test_codes_of_different_people_do_not_void_each_other(book: CodeBook, db: Session) -> None:
    mine = issue(book, db)
    issue(book, db, owner="uuid-of-bob")

    assert check(book, db, mine) is CodeCheck.VALID


def test_long_expired_codes_are_purged_from_the_cli(app: Flask, book: CodeBook) -> None:
    with app.app_context(), app.extensions["store"].transaction() as session:
        issue(book, session)
        issue(book, session, owner="uuid-of-bob")

    runner = app.test_cli_runner()
    assert runner.invoke(args=["registration", "purge-codes"]).output == "removed 0 expired codes\n"
    with clock.travel(timedelta(days=1, minutes=11)):
        assert runner.invoke(args=["registration", "purge-codes"]).output == "removed 2 expired codes\n"
