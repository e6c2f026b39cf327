"""CSV files that are safe to open in a spreadsheet.

Reports and the audit export carry text that people typed (login names, reasons, details). A
cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return, which some spreadsheets
skip before reading a formula) is run as a formula when the file is opened: `=HYPERLINK(...)` in a
login name would become a live link in IT's copy of Excel. Such text cells get a leading `'`,
which spreadsheets show as plain text; numbers the portal computed itself are written as numbers.
Every text cell is quoted, so a separator inside a value cannot start a new cell.
"""
from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | float | bool | date | datetime | None


def neutralize(value: Cell) -> str | int | float:
    """One cell as the spreadsheet should see it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = value.isoformat() if isinstance(value, (date, datetime)) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def rows_as_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """The file line by line, so a long audit export streams instead of filling memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    for cells in itertools.chain([header], rows):
        writer.writerow([neutralize(cell) for cell in cells])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
