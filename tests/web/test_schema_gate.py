"""A database behind the code's migrations: 503 pages and /readyz not ready, then served once upgraded.

On SQLite and on the real PostgreSQL; the start-up line is checked on a real gunicorn.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from devstack.gunicorn import portal_server
from devstack.ports import TEST
from devstack.slapd import Slapd
from portal import PROJECT_ROOT
from portal.store import Store, get_store
from portal.store.migrate import UPGRADE_COMMAND, revisions, upgrade
from tests.store_support import ENGINES, database_url, portal_as_started, postgres_url  # noqa: F401 - fixture

BEING_UPDATED = "The portal is being updated"


@pytest.mark.parametrize("engine", ENGINES)
def test_an_empty_database_gets_503_pages_until_upgraded(
        settings_file: Callable[[str], Path], slapd: Slapd, tmp_path: Path, request: pytest.FixtureRequest,
        engine: str) -> None:
    app = portal_as_started(settings_file(""), database_url(engine, tmp_path, request))
    client = app.test_client()

    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert (ready.json["checks"]["database"], ready.json["checks"]["schema"]) == ("ok", "failed")
    for page in ("/", "/signin", "/reset", "/admin", "/no-such-page"):
        answer = client.get(page)
        assert answer.status_code == 503, page
        assert BEING_UPDATED in answer.get_data(as_text=True)
        assert answer.headers["Retry-After"] == "60"
        assert "Content-Security-Policy" in answer.headers  # still a page of ours, headers and all
    # a form post gets the same page, not a CSRF error or a 500
    assert client.post("/reset", data={"username": "alice"}).status_code == 503
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/portal.css").status_code == 200

    with app.app_context():
        upgrade(get_store())
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"]["schema"] == "ok"
    assert client.get("/").status_code == 200
    with app.app_context():
        get_store().engine.dispose()


def test_a_browser_cookie_is_neither_read_nor_ended(
        settings_file: Callable[[str], Path], slapd: Slapd, tmp_path: Path) -> None:
    """Opening the session would read a table that does not exist yet: the gate answers first, and the
    browser keeps its cookie for after the upgrade (tests/store/test_upgrades.py resumes such a session)."""
    client = portal_as_started(settings_file(""), f"sqlite:///{tmp_path}/behind.db").test_client()
    client.use_session_cookie("a-session-from-before-the-new-release")
    answer = client.get("/")
    assert answer.status_code == 503
    assert "Set-Cookie" not in answer.headers


def test_a_newer_schema_is_served(settings_file: Callable[[str], Path], slapd: Slapd, tmp_path: Path) -> None:
    """During a rolling upgrade the schema is migrated first: servers still on the previous release,
    which do not know the new revision, keep serving (the migrations only add)."""
    url = f"sqlite:///{tmp_path}/newer.db"
    store = Store(url, PROJECT_ROOT)
    upgrade(store)
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = 'from_a_newer_release'")
    store.engine.dispose()
    client = portal_as_started(settings_file(""), url).test_client()
    assert client.get("/readyz").json["checks"]["schema"] == "ok"
    assert client.get("/").status_code == 200


def test_gunicorn_logs_one_line_naming_the_command(settings_file: Callable[[str], Path], slapd: Slapd,
                                                   tmp_path: Path) -> None:
    """What the admin sees after installing a new release and forgetting the upgrade."""
    environ = {"PORTAL_CONFIG": str(settings_file("")), "PORTAL_DATABASE__URL": f"sqlite:///{tmp_path}/new.db"}
    log = tmp_path / "gunicorn.log"
    with portal_server("portal", TEST.portal, environ, log, workers=1, threads=2):
        assert requests.get(f"{TEST.portal_url}/readyz", timeout=5).status_code == 503
        assert requests.get(f"{TEST.portal_url}/", timeout=5).status_code == 503
        upgraded = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "store", "upgrade"],
                                  cwd=PROJECT_ROOT, env={**os.environ, **environ}, check=True,
                                  capture_output=True, text=True)
        # the command that upgrades does not tell the admin to run itself
        assert upgraded.stdout == f"database at revision {revisions()[-1]}\n"
        assert "schema is behind" not in upgraded.stderr
        assert requests.get(f"{TEST.portal_url}/readyz", timeout=5).status_code == 200
        assert requests.get(f"{TEST.portal_url}/", timeout=5).status_code == 200
    naming = [line for line in log.read_text().splitlines() if UPGRADE_COMMAND in line]
    assert len(naming) == 1, naming
    assert "schema is behind" in naming[0]
    assert "Traceback" not in log.read_text()
