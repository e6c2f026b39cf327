"""Browser sessions kept in the portal's store, with rotation, idle and absolute lifetimes.

A signed cookie session cannot be revoked: sign-out would leave a copied cookie valid. Here the
cookie holds only a random token; the server keeps the data under the token's hash, so sign-in
rotates to a new token (no fixation), sign-out deletes the row, and expiry is enforced here.
Each row also names its person's directory entry (`belongs_to`), so a new password can end
every session of that person (services/passwords/writes.py).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response, request, session
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete
from werkzeug.datastructures import CallbackDict

from .. import clock
from ..settings import Settings
from ..store import Store, rows_changed
from ..store.models import WebSession

TOUCH_EVERY = timedelta(minutes=1)  # refresh last_seen_at at most this often, not on every request


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The session dict; `rotate()` moves its data to a fresh token and forgets the old one."""

    def __init__(self, data: dict[str, Any] | None = None, token: str | None = None,
                 created_at: datetime | None = None, last_seen_at: datetime | None = None,
                 directory_id: str | None = None) -> None:
        def on_update(_self: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(data or {}, on_update)
        self.token = token
        self.created_at = created_at
        self.last_seen_at = last_seen_at
        self.directory_id = directory_id
        self.retired_token: str | None = None
        self.modified = False

    def belongs_to(self, directory_id: str | None) -> None:
        """Whose session this is in the directory (None: nobody known), kept in the row's own column."""
        if directory_id != self.directory_id:
            self.directory_id = directory_id
            self.modified = True

    def rotate(self) -> None:
        self.retired_token = self.retired_token or self.token
        self.token = None
        self.created_at = None
        self.modified = True

    def destroy(self) -> None:
        """Forget everything, server row included (sign-out)."""
        self.clear()
        self.directory_id = None
        self.rotate()


def current_session() -> ServerSession:
    """The request's session, as StoreSessionInterface opened it: flask.session is typed as any
    SessionMixin, this as the one with `rotate()` and `belongs_to()`."""
    assert isinstance(session, ServerSession)  # the proxy answers for the session it stands for
    return session


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StoreSessionInterface(SessionInterface):
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.idle = timedelta(minutes=settings.session.idle_minutes)
        self.absolute = timedelta(minutes=settings.session.absolute_minutes)

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 128:
            return ServerSession()
        with self.store.transaction() as db:
            row = db.get(WebSession, _hash(token))
            if row is None:
                return ServerSession()
            now = clock.utcnow()
            if self._expired(row.created_at, row.last_seen_at, now):
                db.delete(row)
                return ServerSession()
            return ServerSession(dict(row.data), token, row.created_at, row.last_seen_at, row.directory_id)

    def _expired(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        created_at, last_seen_at = clock.as_utc(created_at), clock.as_utc(last_seen_at)
        return now - created_at > self.absolute or now - last_seen_at > self.idle

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)  # Flask saves what open_session opened
        name = self.get_cookie_name(app)
        now = clock.utcnow()
        with self.store.transaction() as db:
            if session.retired_token:
                db.execute(delete(WebSession).where(WebSession.token_hash == _hash(session.retired_token)))
            if not session:
                if session.token:
                    db.execute(delete(WebSession).where(WebSession.token_hash == _hash(session.token)))
                if session.token or session.retired_token or name in request.cookies:
                    response.delete_cookie(name, path=self.get_cookie_path(app),
                                           domain=self.get_cookie_domain(app))
                return
            if session.token is None:
                session.token = secrets.token_urlsafe(32)
                session.created_at = now
                db.add(WebSession(token_hash=_hash(session.token), data=dict(session),
                                  created_at=now, last_seen_at=now, directory_id=session.directory_id))
            elif (session.modified or session.last_seen_at is None  # (a stored session always has one)
                  or now - clock.as_utc(session.last_seen_at) > TOUCH_EVERY):
                row = db.get(WebSession, _hash(session.token))
                if row is None:  # deleted meanwhile (signed out in another tab): do not resurrect
                    return
                row.data = dict(session)
                row.directory_id = session.directory_id
                row.last_seen_at = now
            else:
                return
        response.set_cookie(name, session.token, httponly=True, secure=self.get_cookie_secure(app),
                            samesite=self.get_cookie_samesite(app), path=self.get_cookie_path(app),
                            domain=self.get_cookie_domain(app))

    def purge_expired(self) -> int:
        """Delete sessions past either lifetime; run from the CLI or cron."""
        now = clock.utcnow()
        with self.store.transaction() as db:
            return rows_changed(db, delete(WebSession).where(
                (WebSession.created_at < now - self.absolute) | (WebSession.last_seen_at < now - self.idle)))

