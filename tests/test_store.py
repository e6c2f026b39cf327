"""The store: Alembic migrations on SQLite and on the real PostgreSQL, and sessions across processes."""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from flask import Flask
from sqlalchemy import inspect

from portal.store import get_store
from portal.store.migrate import current_revision

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database on the machine's PostgreSQL, dropped afterwards."""
    name = f"portal_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_migrations_build_the_schema_on_sqlite(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    with app.app_context():
        tables = set(inspect(get_store().engine).get_table_names())
        assert {"users", "web_sessions", "alembic_version"} <= tables
        assert current_revision(get_store()) is not None


def test_migrations_and_sessions_work_on_postgresql(make_app: Callable[..., Flask], postgres_url: str) -> None:
    app = make_app(environ={"PORTAL_DATABASE__URL": postgres_url})
    with app.app_context():
        assert {"users", "web_sessions"} <= set(inspect(get_store().engine).get_table_names())
    first, second = app.test_client(), make_app(environ={"PORTAL_DATABASE__URL": postgres_url}).test_client()
    first.get("/")
    with first.session_transaction() as session:
        session["probe"] = "kept on the server"
    # a second portal process on the same database sees the same session
    second.use_session_cookie(first.session_cookie or "")
    with second.session_transaction() as session:
        assert session["probe"] == "kept on the server"
    get_store_engine_dispose(app)


def get_store_engine_dispose(app: Flask) -> None:
    """Close pooled connections so the database can be dropped."""
    with app.app_context():
        get_store().engine.dispose()


def test_readiness_reports_an_unreachable_database(make_app: Callable[..., Flask], postgres_url: str) -> None:
    app = make_app(environ={"PORTAL_DATABASE__URL": postgres_url})
    get_store_engine_dispose(app)
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{postgres_url.rsplit("/", 1)[1]}" WITH (FORCE)')
        ready = app.test_client().get("/readyz")
        admin.execute(f'CREATE DATABASE "{postgres_url.rsplit("/", 1)[1]}"')
    assert ready.status_code == 503
    assert ready.json["checks"]["database"] == "failed"
