"""The store: Alembic migrations on SQLite and on the real PostgreSQL, and sessions across processes."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import inspect, select, text

from portal import PROJECT_ROOT, clock
from portal.store import Store, get_store
from portal.store.migrate import current_revision, upgrade
from portal.store.models import WebSession
from tests.store_support import POSTGRES_ADMIN, postgres_url  # noqa: F401 - fixture


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


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_0005_upgrades_a_store_with_sessions_and_keeps_them(
        make_app: Callable[..., Flask], tmp_path: Path, request: pytest.FixtureRequest, engine: str) -> None:
    """A running installation's sessions survive the upgrade, linked to nobody until they end."""
    url = f"sqlite:///{tmp_path}/portal.db" if engine == "sqlite" else request.getfixturevalue("postgres_url")
    old = Store(url, PROJECT_ROOT)
    upgrade(old, "0004")
    token, now = secrets.token_urlsafe(32), clock.utcnow()
    with old.engine.begin() as connection:
        connection.execute(text("INSERT INTO web_sessions (token_hash, data, created_at, last_seen_at) "
                                "VALUES (:hash, :data, :now, :now)"),
                           {"hash": hashlib.sha256(token.encode()).hexdigest(),
                            "data": '{"probe": "signed in before the upgrade"}', "now": now})
    old.engine.dispose()

    app = make_app(environ={"PORTAL_DATABASE__URL": url})  # upgrades to the newest revision
    with app.app_context():
        store = get_store()
        assert "ix_web_sessions_directory_id" in {i["name"] for i in inspect(store.engine).get_indexes("web_sessions")}
        with store.transaction() as db:
            assert db.scalars(select(WebSession.directory_id)).all() == [None]
    client = app.test_client()
    client.use_session_cookie(token)
    with client.session_transaction() as session:
        assert session["probe"] == "signed in before the upgrade"
    get_store_engine_dispose(app)
