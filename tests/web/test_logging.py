"""Application logs: one JSON object per line, with the request id, never a secret."""
from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask

from devstack import people
from devstack.oidc_provider import OidcProvider, sign_in
from devstack.ports import TEST
from devstack.process import ManagedProcess
from portal import PROJECT_ROOT
from portal.store import get_store
from portal.store.models import WebSession
from portal.web.logging import JsonFormatter, RedactQueries, redact_queries
from tests.support import CSRF_FIELD

BIN = Path(sys.executable).parent


def formatted(app: Flask, **extra: object) -> dict[str, object]:
    with app.test_request_context("/reset"):
        from flask import g

        g.request_id = "req-12345678"
        record = logging.LogRecord("portal.test", logging.INFO, __file__, 1, "reset started", (), None)
        for name, value in extra.items():
            setattr(record, name, value)
        return json.loads(JsonFormatter().format(record))


def test_log_lines_are_json_with_the_request_id(make_app: Callable[..., Flask]) -> None:
    entry = formatted(make_app(), user_id=7)
    assert entry["message"] == "reset started"
    assert entry["request_id"] == "req-12345678"
    assert entry["path"] == "/reset"
    assert entry["user_id"] == 7


@pytest.mark.parametrize("field", ["password", "new_password", "code", "client_secret", "answer", "otp", "api_key"])
def test_fields_that_could_hold_secrets_are_masked(make_app: Callable[..., Flask], field: str) -> None:
    assert formatted(make_app(), **{field: "hunter2"})[field] == "[masked]"


def test_the_request_id_is_returned_and_a_malformed_one_replaced(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    assert client.get("/healthz", headers={"X-Request-ID": "lb-abcdef12"}).headers["X-Request-ID"] == "lb-abcdef12"
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>id</script>"}).headers["X-Request-ID"]
    assert replaced != "<script>id</script>" and len(replaced) == 16


@pytest.mark.parametrize(("line", "logged"), [
    ('"GET /auth/callback?code=c0de&state=st4te HTTP/1.1" 302 -',
     '"GET /auth/callback?code=[redacted]&state=[redacted] HTTP/1.1" 302 -'),
    ("GET /reset/?s3cret HTTP/1.1", "GET /reset/?[redacted] HTTP/1.1"),
    ("posting to https://sms.example/send?key=k3y&to=1", "posting to https://sms.example/send?key=[redacted]&to=[redacted]"),
    ("GET /admin/audit HTTP/1.1", "GET /admin/audit HTTP/1.1"),
    ("is this right? yes", "is this right? yes"),
])
def test_query_values_are_redacted_and_names_kept(line: str, logged: str) -> None:
    assert redact_queries(line) == logged


def test_the_filter_redacts_message_arguments_extra_fields_and_exceptions() -> None:
    try:
        raise ValueError("fetching /token?code=c0de failed")
    except ValueError:
        record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(r)s %(s)s [%(q)s]",
                                   ({"r": "GET /auth/callback?state=st4te HTTP/1.1", "s": "302",
                                     "q": "state=st4te&iss=x"},), sys.exc_info())
    record.return_to = "https://app.example/?session=s3ss"
    RedactQueries().filter(record)
    entry = JsonFormatter().format(record)
    assert "c0de" not in entry and "st4te" not in entry and "s3ss" not in entry
    assert "GET /auth/callback?state=[redacted] HTTP/1.1 302 [state=[redacted]&iss=[redacted]]" in entry
    assert "fetching /token?code=[redacted] failed" in entry


# --- a real server's logs: Flask's development server (the demo) and gunicorn (production) -------

SERVERS = {
    "flask": [str(BIN / "flask"), "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(TEST.portal)],
    "gunicorn": [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{TEST.portal}", "--workers", "1",
                 "--access-logfile", "-", "--error-logfile", "-",
                 "--no-control-socket", "wsgi:app"],  # one fixed socket path for the whole machine otherwise
}


@pytest.fixture(params=sorted(SERVERS))
def live_server(request: pytest.FixtureRequest, make_app: Callable[..., Flask], settings_file: Callable[[str], Path],
                oidc_provider: OidcProvider, tmp_path: Path) -> Iterator[tuple[Flask, Path]]:
    """The portal in its own process on the test port, every line it prints kept in a file."""
    extra = '[rollout]\nreset = "everybody"'
    app = make_app(extra)                     # migrates the database the server process will use
    output = tmp_path / f"{request.param}.log"
    server = ManagedProcess(request.param, SERVERS[request.param], output, _answers, cwd=PROJECT_ROOT,
                            env={"PORTAL_CONFIG": str(settings_file(extra))})
    with server:
        yield app, output


def _answers() -> bool:
    return requests.get(f"{TEST.portal_url}/healthz", timeout=2).status_code == 200


def test_no_code_state_session_token_or_reset_key_reaches_a_server_log(live_server: tuple[Flask, Path]) -> None:
    app, output = live_server
    portal, provider = requests.Session(), requests.Session()   # two browsers' cookie jars: one host, two ports
    start = portal.get(f"{TEST.portal_url}/signin", allow_redirects=False, timeout=10)
    callback = sign_in(provider, start.headers["Location"], "alice", people.person("alice").password)
    assert portal.get(callback, allow_redirects=False, timeout=10).status_code == 302
    form = portal.get(f"{TEST.portal_url}/reset/", timeout=10)
    token = CSRF_FIELD.search(form.text).group(1)  # type: ignore[union-attr]
    started = portal.post(f"{TEST.portal_url}/reset/", data={"csrf_token": token, "identifier": "alice"},
                          allow_redirects=False, timeout=10)
    assert started.status_code == 303
    cookie = portal.cookies["portal_session"]
    with app.app_context(), get_store().transaction() as db:
        flow = db.get(WebSession, hashlib.sha256(cookie.encode()).hexdigest()).data["reset"]  # type: ignore[union-attr]
    query = parse_qs(urlsplit(callback).query)
    secrets = {"code": query["code"][0], "state": query["state"][0], "session cookie": cookie,
               "reset flow key": flow["key"], "reset flow id": flow["flow"], "csrf token": token}

    logged = output.read_text()
    assert [name for name, value in secrets.items() if value in logged] == []
    assert "/auth/callback?code=[redacted]&state=[redacted]" in logged     # the request line is there
