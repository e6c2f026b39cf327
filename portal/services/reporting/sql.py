"""Two SQL expressions the reports need that PostgreSQL and SQLite spell differently.

Counting per day and ordering text must give the same answer on both stores as the Python the
reports replaced: the UTC day of a timestamp (PostgreSQL's `date()` would use the session's time
zone) and code-point order (PostgreSQL's default collation follows the locale, which ignores
punctuation such as `_` and would order `too_short` apart from where Python puts it).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Date, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class UtcDay(FunctionElement[Any]):
    """The UTC calendar day of a timestamp column."""

    type = Date()
    inherit_cache = True
    name = "utc_day"


class CodePointOrder(FunctionElement[Any]):
    """A text column as ORDER BY should compare it: code point by code point."""

    type = String()
    inherit_cache = True
    name = "code_point_order"


@compiles(UtcDay)
def _UtcDay(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"  # SQLite keeps the UTC wall time


@compiles(UtcDay, "postgresql")
def _UtcDay_postgresql(element: UtcDay, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone('UTC', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(CodePointOrder)
def _code_points(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))  # SQLite's BINARY collation already is


@compiles(CodePointOrder, "postgresql")
def _code_points_postgresql(element: CodePointOrder, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'

