"""Sessions (portal/web/sessions.py): nothing is stored for a visitor until a flow begins.

Until then the session holds only the form (CSRF) token, signed into the cookie; the reset
flow's first step or sign-in moves it into the store under a fresh token. The guarantees of
stored sessions hold throughout: every POST needs the token its own cookie holds, a cookie
nobody issued opens an empty session, and the cookie keeps its flags.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, inspect, select, table

from devstack.slapd import Slapd
from portal.store import get_store
from portal.store.models import WebSession
from portal.web.sessions import FormCookie
from tests.conftest import PortalClient

ANONYMOUS_PAGES = ["/", "/reset/", "/change/", "/no-such-page", "/signout"]  # /signout: GET is a 405
FORM_PAGES = ["/reset/", "/change/"]


@pytest.fixture
def portal(make_app: Callable[..., Flask], slapd: Slapd) -> Flask:
    return make_app('[rollout]\nreset = "everybody"\n\n[reset]\nmin_response_ms = 0')


def store_rows(app: Flask) -> dict[str, int]:
    """Rows in every table of the store (Alembic's own excepted)."""
    with app.app_context():
        engine = get_store().engine
        names = [name for name in inspect(engine).get_table_names() if name != "alembic_version"]
        with engine.connect() as connection:
            return {name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
                    for name in names}


def stored_session(app: Flask, token: str) -> WebSession | None:
    with app.app_context(), get_store().transaction() as db:
        return db.get(WebSession, hashlib.sha256(token.encode()).hexdigest())


def session_cookie_header(answer: Any) -> str:
    [header] = [h for h in answer.headers.getlist("Set-Cookie") if h.startswith("portal_session=")]
    return str(header)


def test_anonymous_pages_write_nothing_to_the_store(portal: Flask) -> None:
    before = store_rows(portal)
    browser = portal.test_client()
    for path in ANONYMOUS_PAGES * 2:  # a first visit and a return visit
        assert portal.test_client().get(path).status_code in (200, 404, 405)
        assert browser.get(path).status_code in (200, 404, 405)
    assert store_rows(portal) == before


@pytest.mark.parametrize("path", FORM_PAGES)
def test_a_form_page_signs_its_token_into_the_session_cookie_with_the_cookie_flags(
        portal: Flask, path: str) -> None:
    client = portal.test_client()
    first = client.get(path)
    name, *attributes = [part.strip() for part in session_cookie_header(first).split(";")]
    assert "." in name                                    # signed: a form cookie, not a stored token
    assert {"HttpOnly", "SameSite=Lax", "Path=/"} <= set(attributes)
    assert "Secure" not in attributes                     # http in tests; https: tests/web/test_security.py
    assert not client.get(path).headers.getlist("Set-Cookie")  # nothing changed: nothing sent again


def test_every_post_needs_the_token_its_own_cookie_holds(portal: Flask) -> None:
    before = store_rows(portal)
    browser, other = portal.test_client(), portal.test_client()
    token, others_token = browser.csrf_token("/reset/"), other.csrf_token("/reset/")
    refused = [
        portal.test_client().post("/reset/", data={"csrf_token": token, "identifier": "nobody"}),  # no cookie
        browser.post("/reset/", data={"identifier": "nobody"}),                                   # no token
        browser.post("/reset/", data={"csrf_token": others_token, "identifier": "nobody"}),       # not its own
    ]
    assert [answer.status_code for answer in refused] == [400, 400, 400]
    assert all("This page has expired" in answer.get_data(as_text=True) for answer in refused)
    assert store_rows(portal) == before


def test_a_flow_moves_the_session_into_the_store_and_open_forms_stay_valid(portal: Flask) -> None:
    browser = portal.test_client()
    token = browser.csrf_token("/reset/")
    cookie = browser.session_cookie
    started = browser.post("/reset/", data={"csrf_token": token, "identifier": "nobody-by-this-name"})
    assert started.status_code == 303
    stored = browser.session_cookie
    assert stored and "." not in stored and stored != cookie  # a fresh random token now
    row = stored_session(portal, stored)
    assert row is not None and "reset" in row.data
    assert browser.get("/reset/verify").status_code == 200
    # the form token moved into the row with the rest: a page opened before the flow still posts
    cancelled = browser.post("/reset/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303


def test_a_cookie_the_portal_did_not_issue_opens_an_empty_session(portal: Flask) -> None:
    browser = portal.test_client()
    token = browser.csrf_token("/reset/")
    signed = browser.session_cookie or ""
    raw = URLSafeTimedSerializer("x", salt=FormCookie.SALT).loads_unsafe(signed)[1]
    foreign = URLSafeTimedSerializer("another portal's secret key-" + "y" * 30, salt=FormCookie.SALT).dumps(raw)
    altered = signed[:-2] + ("AA" if not signed.endswith("AA") else "BB")
    for cookie in (foreign, altered):
        forged = portal.test_client()
        forged.use_session_cookie(cookie)
        answer = forged.post("/reset/", data={"csrf_token": token, "identifier": "nobody"})
        assert answer.status_code == 400
        assert "This page has expired" in answer.get_data(as_text=True)


def test_a_token_the_store_does_not_hold_is_never_stored(portal: Flask) -> None:
    """A replayed or guessed token opens an empty session; a flow begun in it gets a token of its own."""
    browser = portal.test_client()
    browser.use_session_cookie("a-token-nobody-was-given-" + "z" * 18)
    token = browser.csrf_token("/reset/")
    assert "." in (browser.session_cookie or "")            # replaced by a form cookie
    browser.post("/reset/", data={"csrf_token": token, "identifier": "nobody-by-this-name"})
    assert stored_session(portal, "a-token-nobody-was-given-" + "z" * 18) is None
    assert stored_session(portal, browser.session_cookie or "") is not None


def test_sign_out_of_a_visitor_s_session_leaves_no_cookie_and_no_row(portal: Flask) -> None:
    browser: PortalClient = portal.test_client()
    token = browser.csrf_token("/reset/")
    before = store_rows(portal)
    answer = browser.post("/signout", data={"csrf_token": token})
    assert answer.status_code == 302
    assert browser.session_cookie is None
    assert store_rows(portal) == before
