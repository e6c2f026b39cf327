"""Import security info prepared by IT (a CSV of login, alternate email, mobile) line by line.

Every line is checked on its own and saved in its own transaction: a bad line is reported with
its number and the reason, and skipped; the good lines before and after it are kept. An import
replaces the methods it names (a blank cell leaves that method as it was) and is audited per
person; it does not count as the person confirming their info, and no one is mailed.
"""
from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask_babel import gettext as _

from ...adapters.directory import Directory, DirectoryUnavailable
from ...settings import Settings
from ...store import Store
from ..campaigns import population
from ..proofs import security_info
from ..proofs.methods import DESTINATIONS, InvalidEntry
from ..proofs.security_info import FROM_IMPORT
from ..security import audit

COLUMNS = ("username", *DESTINATIONS)  # the methods with a value IT can prepare: addresses, numbers


@dataclass(frozen=True)
class LineResult:
    line: int
    username: str
    imported: tuple[str, ...]  # method kinds saved
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class ImportStopped(Exception):
    """The whole import cannot go on (no header, directory down); lines already saved stay."""


def import_rows(rows: Iterable[list[str]], *, directory: Directory, store: Store,
                settings: Settings) -> Iterator[LineResult]:
    reader = iter(rows)
    header = [name.strip().lower() for name in next(reader, [])]
    if "username" not in header or not set(header) & set(DESTINATIONS) or not set(header) <= set(COLUMNS):
        raise ImportStopped(_("The first line must name the columns: username, and email and/or phone."))
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        yield _import_line(number, cells, len(row) == len(header), seen, directory=directory, store=store,
                           settings=settings)


def _import_line(number: int, cells: dict[str, str], complete: bool, seen: set[str], *, directory: Directory,
                 store: Store, settings: Settings) -> LineResult:
    username = cells.get("username", "")
    try:
        values = _validate(cells, complete, settings)
        user = directory.find_user(username) if username else None
    except InvalidEntry as problem:
        return LineResult(number, username, (), problem.message)
    except DirectoryUnavailable as error:
        raise ImportStopped(_("The directory cannot be reached; lines before %(line)d were imported.",
                              line=number)) from error
    if user is None or user.protected:
        return LineResult(number, username, (), _("No account with this user name in the directory."))
    if user.directory_id in seen:
        return LineResult(number, username, (), _("This person is on an earlier line already."))
    seen.add(user.directory_id)
    with store.transaction() as db:
        for kind, value in values.items():
            security_info.save_method(db, user, kind, destination=value, source=FROM_IMPORT)
        population.record_person(db, settings, user)
        audit.record(db, "registration.imported", audit.SUCCESS, username=user.login,
                     details={"methods": ",".join(values)})
    return LineResult(number, user.login, tuple(values))


def _validate(cells: dict[str, str], complete: bool, settings: Settings) -> dict[str, str]:
    if not complete:
        raise InvalidEntry(_("The line does not have one value per column."))
    if not cells.get("username"):
        raise InvalidEntry(_("The user name is missing."))
    values = {}
    for kind in DESTINATIONS:
        if cells.get(kind):
            try:
                values[kind] = security_info.normalize_destination(kind, cells[kind], settings.registration.phone)
            except InvalidEntry as problem:
                raise InvalidEntry(f"{kind}: {problem.message}") from problem
    if not values:
        raise InvalidEntry(_("Neither an email address nor a phone number is given."))
    return values


def read_csv(lines: Iterable[str]) -> Iterator[list[str]]:
    """Rows of a UTF-8 CSV file; Excel's comma or semicolon is detected from the header."""
    lines = iter(lines)
    first = next(lines, "")
    dialect = csv.excel if first.count(",") >= first.count(";") else _Semicolon
    yield from csv.reader(itertools.chain([first], lines), dialect)


class _Semicolon(csv.excel):
    delimiter = ";"
