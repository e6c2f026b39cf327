"""portal/workers.py under deploy/gunicorn.conf.py: preloaded workers share no connection.

The production config builds the app in gunicorn's master (preload_app) and forks the workers.
Here the master also opens a database and a directory connection before forking (a warmed-up
WSGI module, as an app that checks its schema at start-up would), so a worker that kept the
parent's pools would hand out the master's connections; each worker must use its own.
"""
from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from devstack.gunicorn import portal_server
from devstack.slapd import Slapd
from tests.services.passwords.breached_support import CLEAN, ONCE, breached_toml, pwned_file  # noqa: F401
from tests.store_support import postgres_url  # noqa: F401 - fixture
from tests.support import settings_toml

WARMED_APP = textwrap.dedent('''
    """wsgi.py's app, with a database and a directory connection open before the fork, and a
    page saying which connections the answering process uses."""
    import os

    from flask import jsonify
    from sqlalchemy import text

    from portal.adapters.directory import directory_for
    from wsgi import app

    store, directory = app.extensions["store"], directory_for(app)


    def connections():
        with store.engine.connect() as conn:
            backend = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        ldap_port = directory.pool.read(lambda conn: conn.socket.getsockname()[1])
        return {"pid": os.getpid(), "backend": backend, "ldap_port": ldap_port}


    with app.app_context():
        MASTER = connections()
    app.add_url_rule("/_connections", "connections", lambda: jsonify(connections()))
    app.add_url_rule("/_master", "master", lambda: jsonify(MASTER))
''')


def answer(url: str) -> dict[str, int]:
    response = requests.get(url, timeout=10)
    # a connection two processes talk over breaks their protocol: errors, not just wrong numbers
    assert response.status_code == 200, response.text
    found: dict[str, int] = response.json()
    return found


def test_two_preloaded_workers_never_use_a_connection_of_the_master_or_of_each_other(
        tmp_path: Path, postgres_url: str, slapd: Slapd,  # noqa: F811 - fixture
        make_app: Callable[..., object]) -> None:
    make_app(environ={"PORTAL_DATABASE__URL": postgres_url})  # the schema
    port = int(os.environ.get("DEVSTACK_TEST_SLOT", "0")) * 10 + 15008
    config = tmp_path / "portal.toml"
    config.write_text(settings_toml(postgres_url, base_url=f"http://127.0.0.1:{port}"))
    (tmp_path / "warmed_wsgi.py").write_text(WARMED_APP)
    server = portal_server("portal", port, {"PORTAL_CONFIG": str(config), "PORTAL_ACCESS_LOG": "/dev/null"},
                           tmp_path / "gunicorn.log", workers=2, threads=4,
                           argv=("--pythonpath", str(tmp_path), "warmed_wsgi:app"))
    with server:
        url = f"http://127.0.0.1:{port}"
        master = answer(f"{url}/_master")
        with ThreadPoolExecutor(8) as pool:
            seen = list(pool.map(lambda _: answer(f"{url}/_connections"), range(80)))
    assert server.process is not None and master["pid"] == server.process.pid
    workers = {answer["pid"] for answer in seen}
    assert len(workers) == 2, "both workers should have answered"
    for kind in ("backend", "ldap_port"):
        used = {pid: {answer[kind] for answer in seen if answer["pid"] == pid} for pid in workers}
        first, second = used.values()
        assert master[kind] not in first | second, f"a worker used the master's {kind}"
        assert not first & second, f"two workers used the same {kind}"


BREACHED_APP = textwrap.dedent('''
    """wsgi.py's app, with a page saying which process answered and what the password rules say
    of a password (the breached-passwords file was opened by the master, before the fork)."""
    import os

    from flask import jsonify, request

    from portal.services.container import collaborators
    from wsgi import app


    def rules():
        violations = collaborators(app).password_rules.check(request.args["password"])
        return jsonify({"pid": os.getpid(), "codes": [v.code for v in violations]})


    app.add_url_rule("/_rules", "rules", rules)
''')


def test_preloaded_workers_search_the_breached_file_the_master_opened(
        tmp_path: Path, make_app: Callable[..., object], pwned_file: tuple[Path, list[bytes]]) -> None:
    """The map is opened once, in the master; each worker finds what is listed and nothing else."""
    breached = breached_toml(file=str(pwned_file[0]))
    make_app(breached)  # the schema, in the settings' SQLite file
    port = int(os.environ.get("DEVSTACK_TEST_SLOT", "0")) * 10 + 15008
    config = tmp_path / "portal.toml"
    config.write_text(settings_toml(f"sqlite:///{tmp_path}/portal.db", breached, base_url=f"http://127.0.0.1:{port}"))
    (tmp_path / "breached_wsgi.py").write_text(BREACHED_APP)
    server = portal_server("portal", port, {"PORTAL_CONFIG": str(config), "PORTAL_ACCESS_LOG": "/dev/null"},
                           tmp_path / "gunicorn.log", workers=2, threads=4,
                           argv=("--pythonpath", str(tmp_path), "breached_wsgi:app"))
    passwords = [ONCE, CLEAN] * 40
    with server, ThreadPoolExecutor(8) as pool:
        seen = list(pool.map(lambda p: requests.get(f"http://127.0.0.1:{port}/_rules", params={"password": p},
                                                    timeout=10).json(), passwords))
    assert len({answer["pid"] for answer in seen}) == 2, "both workers should have answered"
    assert [answer["codes"] for answer in seen] == [["breached"], []] * 40
