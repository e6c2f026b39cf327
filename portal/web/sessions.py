"""Browser sessions kept in the portal's store, with rotation, idle and absolute lifetimes.

A signed cookie session cannot be revoked: sign-out would leave a copied cookie valid. Here the
cookie holds only a random token; the server keeps the data under the token's hash, so sign-in
rotates to a new token (no fixation), sign-out deletes the row, and expiry is enforced here.
Each row also names its person's directory entry (`belongs_to`), so a new password can end
every session of that person (services/passwords/writes.py).

Until a flow begins, a visitor's session holds nothing but the raw CSRF token that Flask-WTF
keeps for the forms it signs. Writing a row for that would cost every anonymous page view a
store write (and let anyone fill the table by reloading a form), so such a session travels in
the same cookie, signed (`FormCookie`): it grants nothing, so there is nothing to revoke. The
moment anything else is put in the session (the reset flow's binding, sign-in state) it moves
into the store under a fresh random token, the CSRF token with it, so forms already open stay
valid. A signed value always contains a "." and a token never does, so the cookie's value
says which kind it is; a token the store does not know opens an empty session and is never
reused for a new row.

A stored session also records the host name it began on (the portal may serve several, [hosts]),
and opens only there: the cookie is host-only, so a browser never sends it elsewhere, and a copy
presented on another host gets an empty session. So whatever is under way in a session (a reset,
a sign-in's state) is bound to its host, and the links its mails carry name that host.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response, request, session
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import Connection, delete, insert, select, update
from werkzeug.datastructures import CallbackDict

from .. import clock
from ..settings import Settings
from ..settings.sections import bare_host
from ..store import Store, rows_changed
from ..store.models import WebSession

TOUCH_EVERY = timedelta(minutes=1)  # refresh last_seen_at at most this often, not on every request
MAX_COOKIE = 128  # longer cookie values are not ours: neither looked up nor verified
SIGNED_MARK = "."  # in every signed value (itsdangerous joins its parts with it), never in a token
HOST_KEY = "_host"  # in a stored row's data: the host name the session began on (not in the session dict)


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


class FormCookie:
    """The cookie of a session that holds only the raw CSRF token: that token, signed and dated.

    Its own salt keeps it apart from the signed token in the forms (Flask-WTF's): neither value
    passes for the other. It expires with the absolute lifetime, as the forms' tokens do."""

    SALT = "portal-form-session"

    def __init__(self, secret_key: str, key: str, lifetime: timedelta) -> None:
        self.serializer = URLSafeTimedSerializer(secret_key, salt=self.SALT)
        self.key = key
        self.max_age = int(lifetime.total_seconds())

    def holds(self, session: ServerSession) -> bool:
        """Whether the session can travel in this cookie: not stored, nobody's, the token at most."""
        return session.token is None and session.directory_id is None and set(session) <= {self.key}

    def dumps(self, session: ServerSession) -> str:
        return self.serializer.dumps(session[self.key])

    def loads(self, value: str) -> ServerSession:
        """The session the cookie carries; an empty one when it is forged, altered or too old."""
        try:
            token = self.serializer.loads(value, max_age=self.max_age)
        except BadData:
            return ServerSession()
        return ServerSession({self.key: token}) if isinstance(token, str) else ServerSession()


class StoreSessionInterface(SessionInterface):
    def __init__(self, store: Store, settings: Settings, secret_key: str, csrf_key: str) -> None:
        """`csrf_key` is where Flask-WTF keeps its raw token in the session (WTF_CSRF_FIELD_NAME)."""
        self.store = store
        self.idle = timedelta(minutes=settings.session.idle_minutes)
        self.absolute = timedelta(minutes=settings.session.absolute_minutes)
        self.form_cookie = FormCookie(secret_key, csrf_key, self.absolute)

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        value = request.cookies.get(self.get_cookie_name(app))
        if not value or len(value) > MAX_COOKIE:
            return ServerSession()
        if SIGNED_MARK in value:
            return self.form_cookie.loads(value)
        with self.store.engine.begin() as db:
            row = db.execute(select(WebSession.data, WebSession.created_at, WebSession.last_seen_at,
                                    WebSession.directory_id).where(WebSession.token_hash == _hash(value))).first()
            if row is None:
                return ServerSession()
            now = clock.utcnow()
            if self._expired(row.created_at, row.last_seen_at, now):
                _forget(db, value)
                return ServerSession()
            data = dict(row.data)
            # a session stored before hosts were recorded began on base_url's host, the only one
            # sign-in worked on then: it stays open there across the upgrade
            began = data.pop(HOST_KEY, None) or next(iter(app.extensions["settings"].served_hosts))
            if began != bare_host(request.host):
                return ServerSession()  # another host's session: not this one's, and left alone
            return ServerSession(data, value, row.created_at, row.last_seen_at, row.directory_id)

    def _expired(self, created_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        created_at, last_seen_at = clock.as_utc(created_at), clock.as_utc(last_seen_at)
        return now - created_at > self.absolute or now - last_seen_at > self.idle

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)  # Flask saves what open_session opened
        if not self.form_cookie.holds(session):
            self._save_in_store(app, session, response)
            return
        if session.retired_token:  # signed out, or rotated before a flow began: the row goes
            with self.store.engine.begin() as db:
                _forget(db, session.retired_token)
        if session and session.modified:  # a new form token; it also replaces the token of a row that ended
            self._set_cookie(app, response, self.form_cookie.dumps(session))
        elif not session and self.get_cookie_name(app) in request.cookies:
            self._delete_cookie(app, response)

    def _save_in_store(self, app: Flask, session: ServerSession, response: Response) -> None:
        """One statement in the usual cases: the row moved to a fresh token (rotation), a new row,
        or the row brought up to date; no connection at all when nothing changed lately."""
        now = clock.utcnow()
        if not session:  # a stored session emptied: it ends
            with self.store.engine.begin() as db:
                for token in (session.retired_token, session.token):
                    if token:
                        _forget(db, token)
            self._delete_cookie(app, response)
            return
        if session.token is None:
            session.token = self._store_new(session, now)
        elif (session.modified or session.last_seen_at is None  # (a stored session always has one)
              or now - clock.as_utc(session.last_seen_at) > TOUCH_EVERY):
            with self.store.engine.begin() as db:
                if not _changed(db, session.token, data=_stored(session), directory_id=session.directory_id,
                                last_seen_at=now):
                    return  # deleted meanwhile (signed out in another tab): do not resurrect
        else:
            return
        self._set_cookie(app, response, session.token)

    def _store_new(self, session: ServerSession, now: datetime) -> str:
        """The session's data under a fresh token, which it returns: the retired token's row moves
        to it (rotation), or a new row when there was none."""
        token = secrets.token_urlsafe(32)
        session.created_at = now
        values = {"token_hash": _hash(token), "data": _stored(session), "created_at": now,
                  "last_seen_at": now, "directory_id": session.directory_id}
        with self.store.engine.begin() as db:
            if not session.retired_token or not _changed(db, session.retired_token, **values):
                db.execute(insert(WebSession).values(**values))
        return token

    def _set_cookie(self, app: Flask, response: Response, value: str) -> None:
        response.set_cookie(self.get_cookie_name(app), value, httponly=True, secure=self.get_cookie_secure(app),
                            samesite=self.get_cookie_samesite(app), path=self.get_cookie_path(app),
                            domain=self.get_cookie_domain(app))

    def _delete_cookie(self, app: Flask, response: Response) -> None:
        response.delete_cookie(self.get_cookie_name(app), path=self.get_cookie_path(app),
                               domain=self.get_cookie_domain(app))

    def purge_expired(self) -> int:
        """Delete sessions past either lifetime; run from the CLI or cron."""
        now = clock.utcnow()
        with self.store.transaction() as db:
            return rows_changed(db, delete(WebSession).where(
                (WebSession.created_at < now - self.absolute) | (WebSession.last_seen_at < now - self.idle)))


def _stored(session: ServerSession) -> dict[str, Any]:
    """The row's data: the session's, and the host name this request came to (where it began:
    a session from another host never opens here)."""
    return {**session, HOST_KEY: bare_host(request.host)}


def _forget(db: Connection, token: str) -> None:
    db.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))


def _changed(db: Connection, token: str, **values: Any) -> bool:
    """Set `values` on the row of `token`: whether it was there. A Core statement on a connection:
    a session is read or written once a request, so an ORM session's bookkeeping buys nothing."""
    return db.execute(update(WebSession).where(WebSession.token_hash == _hash(token)).values(**values)).rowcount == 1

