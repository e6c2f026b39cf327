"""Branded error pages that say what the user can do and nothing about the server."""
from __future__ import annotations

import logging

from flask import Flask, g, render_template
from markupsafe import escape
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..services.directory_writes import AttemptNotRecorded

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


def render_error(code: int, title: str | None = None, message: str | None = None) -> tuple[str, int]:
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    title, message = title or default_title, message or default_message
    try:
        return render_template("error.html", code=code, title=title, message=message), code
    except Exception:  # noqa: BLE001 - a broken theme template must not turn a 404 into a crash loop
        log.exception("error page could not be rendered")
        return f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(message)}</p>", code


def install(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        log.info("csrf rejected: %s", error.description)
        return render_error(400, *CSRF_MESSAGE)

    @app.errorhandler(AttemptNotRecorded)
    def _not_recorded(_error: AttemptNotRecorded) -> tuple[str, int]:
        return render_error(503, *NOT_RECORDED_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        return render_error(code if code in MESSAGES else 400)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        log.exception("unhandled error", exc_info=error)
        if "db_session" in g:  # end a half-done write now: SQLite would block saving the session
            g.db_session.rollback()
        return render_error(InternalServerError.code)
