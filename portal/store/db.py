"""One SQLAlchemy engine per app; services open a transaction per step (`Store.transaction`).

SQLite (a file under instance/) is the embedded default; PostgreSQL is chosen by URL for
deployments with several portal processes. The schema is owned by Alembic migrations, never
by `create_all`, so upgrades of a running installation stay under control.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy import CursorResult, Delete, Engine, Insert, Update, create_engine, event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry


class Store:
    def __init__(self, url: str, root: Path) -> None:
        self.url = _absolute_sqlite(url, root)
        self.engine: Engine = _make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessions.begin() as session:
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def init_app(self, app: Flask) -> None:
        app.extensions["store"] = self


def _absolute_sqlite(url: str, root: Path) -> str:
    """Relative SQLite paths are relative to the project root, and their folder is created."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix + ":memory:":
        return url
    path = Path(url[len(prefix):])
    if not path.is_absolute():
        path = root / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return prefix + str(path)


def _make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 15})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def get_store() -> Store:
    store: Store = current_app.extensions["store"]
    return store


def rows_changed(db: Session, statement: Update | Delete | Insert) -> int:
    """Run an UPDATE, DELETE or INSERT and say how many rows it changed (a claim won is exactly one).

    Session.execute is typed as returning a plain Result whatever the statement; for these it
    is a CursorResult, the one that has `rowcount`."""
    return cast("CursorResult[Any]", db.execute(statement)).rowcount
