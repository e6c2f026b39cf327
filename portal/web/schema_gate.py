"""While the database schema is behind the code, every page answers a clear 503 instead of a 500.

New code on an older or empty database fails at its first query (the session lookup, a sign-in),
which a person sees as "something went wrong" and the admin as a traceback. Until `store upgrade`
has run, the gate answers "being updated" instead, before anything touches the database:
- in front of Flask it drops the request's cookies, because opening the session reads a table that
  may not exist yet (the browser keeps its cookie, and the session resumes after the upgrade);
- first among the before-request handlers it answers the 503 page (with Retry-After).
/healthz, /readyz (which says "schema": "failed") and the static files the page needs stay served.
The store's SchemaWatch stops asking once the schema is current, so this costs nothing afterwards.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, make_response, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from ..store.migrate import SchemaWatch
from .errors import render_error

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

BEHIND = "portal.schema_behind"  # the environ key the middleware sets for the before-request handler
SERVED_WHILE_BEHIND = {"health.healthz", "health.readyz"}
STATIC_BLUEPRINT = "assets"
RETRY_AFTER_SECONDS = 60
MESSAGE = (_l("The portal is being updated"),
           _l("It will be back in a few minutes. Please try again then."))


class _Gate:
    """WSGI middleware: marks requests that arrive while the schema is behind, without their cookies."""

    def __init__(self, app: WSGIApplication, watch: SchemaWatch) -> None:
        self.app = app
        self.watch = watch

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if _behind(self.watch):
            environ[BEHIND] = True
            environ.pop("HTTP_COOKIE", None)
        return self.app(environ, start_response)


def _behind(watch: SchemaWatch) -> bool:
    try:
        return watch.behind() is not None
    except SQLAlchemyError:
        return False  # the database is unreachable: the request meets that fault on its own path


def install(app: Flask, watch: SchemaWatch) -> None:
    # Flask types wsgi_app as a method; wrapping it is Flask's documented way to add middleware
    app.wsgi_app = _Gate(app.wsgi_app, watch)  # type: ignore[method-assign]

    def _being_updated() -> ResponseReturnValue | None:
        if not request.environ.get(BEHIND) or request.endpoint in SERVED_WHILE_BEHIND \
                or request.blueprint == STATIC_BLUEPRINT:
            return None
        response = make_response(render_error(503, *MESSAGE))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    # first of all handlers: CSRF, limits and the registration gate would otherwise answer first
    app.before_request_funcs.setdefault(None, []).insert(0, _being_updated)
