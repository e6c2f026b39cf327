"""Upgrades of a database that holds data from every schema revision, on SQLite and on PostgreSQL.

An empty database is upgraded one revision at a time, and after each step the rows a portal at
that revision would have written are inserted (tests/store/upgrade_rows.py). The new release then
starts on it (503 while behind), `store upgrade` brings it to the newest revision, and the portal
serves that data: every row reads back, every model loads, the old session is still signed in and
the audit export lists the old events.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from devstack.slapd import Slapd
from portal import PROJECT_ROOT, clock
from portal.store import Store, get_store
from portal.store.migrate import revisions, upgrade
from portal.store.models import Base
from tests.store.upgrade_rows import DISPLAY_NAME, ROWS, Inserted, Rows, column_type
from tests.store_support import ENGINES, database_url, portal_as_started, postgres_url  # noqa: F401 - fixture


def test_every_revision_has_its_rows() -> None:
    missing = [revision for revision in revisions() if revision not in ROWS]
    assert missing == [], f"add the rows of revisions {missing} to tests/store/upgrade_rows.py"
    assert [revision for revision in ROWS if revision not in revisions()] == []


def fill_revision_by_revision(store: Store) -> Rows:
    """Every revision before the newest, each with its rows."""
    rows = Rows(clock.utcnow())
    for revision in revisions()[:-1]:
        upgrade(store, revision)
        add_rows(store, rows, revision)
    return rows


def add_rows(store: Store, rows: Rows, revision: str) -> None:
    with store.engine.begin() as connection:
        rows.connection = connection
        ROWS[revision](rows)
    rows.connection = None


def read_back(store: Store, row: Inserted) -> dict[str, Any]:
    columns = [sa.column(name, column_type(value)) for name, value in row.values.items()]
    table = sa.table(row.table, *columns, *(sa.column(name) for name in row.key))
    condition = sa.and_(*(table.c[name] == value for name, value in row.key.items()))
    with store.engine.connect() as connection:
        found = connection.execute(select(*columns).where(condition)).mappings().one()
    return {name: comparable(value) for name, value in found.items()}


def comparable(value: object) -> object:
    """SQLite hands dates back without their zone (they were stored as UTC)."""
    return clock.as_utc(value) if isinstance(value, datetime) else value


@pytest.mark.parametrize("engine", ENGINES)
def test_data_from_every_revision_is_upgraded_and_served(
        settings_file: Callable[[str], Path], slapd: Slapd, tmp_path: Path, request: pytest.FixtureRequest,
        engine: str) -> None:
    url = database_url(engine, tmp_path, request)
    old = Store(url, PROJECT_ROOT)
    rows = fill_revision_by_revision(old)
    old.engine.dispose()

    app = portal_as_started(settings_file(""), url)
    browser = app.test_client()
    browser.use_session_cookie(rows.session_token)
    assert browser.get("/").status_code == 503  # behind: "being updated", the session left alone

    upgraded = app.test_cli_runner().invoke(args=["store", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output.strip() == f"database at revision {revisions()[-1]}"
    with app.app_context():
        store = get_store()
        add_rows(store, rows, revisions()[-1])
        for row in rows.inserted:
            expected = {name: comparable(value) for name, value in row.values.items()}
            assert read_back(store, row) == expected, row.table
        with store.transaction() as db:
            for mapper in Base.registry.mappers:  # each model loads the old rows
                table = mapper.local_table.name
                loaded = db.scalars(select(mapper.class_)).all()
                assert len(loaded) == sum(row.table == table for row in rows.inserted), table

    page = browser.get("/")
    assert page.status_code == 200
    assert f"Signed in as {DISPLAY_NAME}" in page.get_data(as_text=True)
    exported = app.test_cli_runner().invoke(args=["audit", "export"])
    assert exported.exit_code == 0, exported.output
    assert "reset.completed" in exported.output and "req-before-upgrade" in exported.output
    with app.app_context():
        get_store().engine.dispose()
