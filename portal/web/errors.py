"""Branded error pages that say what the user can do and nothing about the server.

An unexpected error's page shows the request id, and the audit trail and the log hold the same
id: the help desk finds what happened from what the person reads out.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, request
from flask.globals import request_ctx
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf.csrf import CSRFError
from limits.errors import StorageError
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..services.container import collaborators
from ..services.passwords.writes import AttemptNotRecorded
from ..services.security import audit
from .identity import current_user

log = logging.getLogger(__name__)

MESSAGES = {
    400: (_l("Something in that request was not right"),
          _l("Go back, reload the page and try again.")),
    403: (_l("You can't open this page"),
          _l("Your account does not have access to this page.")),
    404: (_l("Page not found"),
          _l("Check the address, or start again from the home page.")),
    405: (_l("That action is not allowed here"),
          _l("Start again from the home page.")),
    413: (_l("That request was too large"),
          _l("Send less data and try again.")),
    429: (_l("Too many attempts"),
          _l("Please wait a few minutes before trying again.")),
    500: (_l("Something went wrong on our side"),
          _l("Please try again in a few minutes. If it keeps happening, contact the help desk.")),
}
CSRF_MESSAGE = (_l("This page has expired"),
                _l("For your security, forms expire. Go back, reload the page and try again."))
NOT_RECORDED_MESSAGE = (_l("Nothing was changed"),
                        _l("The portal cannot keep its records right now, so it did not change your password "
                           "or your account. Please try again in a few minutes."))
LIMITS_DOWN_MESSAGE = (_l("This can't be done right now"),
                       _l("The portal cannot count attempts right now, so it does not accept this step. "
                          "Nothing was changed. Please try again in a few minutes."))
DATABASE_DOWN_MESSAGE = (_l("The portal is unavailable right now"),
                         _l("The portal cannot reach its records, so nothing was changed. "
                            "Please try again in a few minutes."))
REFERENCE = _l("If you contact the help desk, give them this reference:")
EVENT_UNEXPECTED = "error.unexpected"


def render_error(code: int, title: str | LazyString | None = None, message: str | LazyString | None = None,
                 request_id: str | None = None) -> tuple[str, int]:
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    shown_title, shown_message = title or default_title, message or default_message
    try:
        return render_template("error.html", code=code, title=shown_title, message=shown_message,
                               reference=REFERENCE, request_id=request_id), code
    except Exception:  # noqa: BLE001 - a broken theme template must not turn a 404 into a crash loop
        log.exception("error page could not be rendered")
        reference = f"<p>{escape(REFERENCE)} <code>{escape(request_id)}</code></p>" if request_id else ""
        return (f"<!doctype html><title>{escape(shown_title)}</title><h1>{escape(shown_title)}</h1>"
                f"<p>{escape(shown_message)}</p>{reference}"), code


def _record_unexpected(error: Exception) -> None:
    """The error on the audit trail, in its own transaction; a failure here is logged, never raised."""
    try:
        user = current_user()
        with collaborators().store.transaction() as tx:
            audit.record(tx, EVENT_UNEXPECTED, audit.FAILURE, username=user.username if user else None,
                         reason=type(error).__name__, details={"endpoint": request.endpoint or ""})
    except Exception:  # noqa: BLE001 - the person must still get the error page
        log.exception("the unexpected error could not be recorded in the audit trail")


def _database_down(error: OperationalError) -> tuple[str, int]:
    """The database cannot be reached: the step's transaction rolled back, and the pool connects
    again by itself (pre-ping) once the database is back."""
    log.error("database unreachable: %s", type(error.orig).__name__)
    return render_error(503, *DATABASE_DOWN_MESSAGE)


def _null_session_for_the_error_page() -> None:
    """The session could not be opened: the page and the end of the request see an empty one that
    is never saved (Flask's own stand-in for a session that cannot be had)."""
    context = request_ctx._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    if context._session is None:
        context._session = current_app.session_interface.make_null_session(current_app)


def install(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        log.info("csrf rejected: %s", error.description)
        return render_error(400, *CSRF_MESSAGE)

    @app.errorhandler(AttemptNotRecorded)
    def _not_recorded(_error: AttemptNotRecorded) -> tuple[str, int]:
        return render_error(503, *NOT_RECORDED_MESSAGE)

    @app.errorhandler(StorageError)
    def _limits_down(error: StorageError) -> tuple[str, int]:
        # refused, never let through uncounted; the rest of the portal keeps working
        log.error("rate limit storage unreachable: %s", type(error.storage_error).__name__)
        return render_error(503, *LIMITS_DOWN_MESSAGE)

    app.register_error_handler(OperationalError, _database_down)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int]:
        cause = getattr(error, "original_exception", None)
        if isinstance(cause, OperationalError):  # raised before any view: opening the session
            _null_session_for_the_error_page()
            return _database_down(cause)
        code = error.code or 500
        return render_error(code if code in MESSAGES else 400)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error", exc_info=error)
        _record_unexpected(error)
        return render_error(InternalServerError.code, request_id=g.get("request_id"))
