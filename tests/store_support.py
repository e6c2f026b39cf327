"""The machine's real PostgreSQL for the tests that need one (a throwaway database per test), and the
portal started on a database as it is, for the tests of schemas and upgrades on either engine."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from portal import create_app
from portal.settings import load_settings
from tests.conftest import PortalClient

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A new database on the machine's PostgreSQL, dropped afterwards; yields its URL."""
    name = f"portal_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A throwaway database for this test."""
    with throwaway_database() as url:
        yield url


ENGINES = ["sqlite", "postgresql"]


def database_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new SQLite file, or a throwaway PostgreSQL database (the postgres_url fixture)."""
    if engine == "sqlite":
        return f"sqlite:///{tmp_path}/portal-{uuid.uuid4().hex[:8]}.db"
    return str(request.getfixturevalue("postgres_url"))


def portal_as_started(settings: Path, url: str) -> Flask:
    """The portal as a new release starts it: on the database as it is, nothing upgraded on the way."""
    app = create_app(load_settings(settings, {"PORTAL_DATABASE__URL": url}))
    app.test_client_class = PortalClient
    return app
