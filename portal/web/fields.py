"""What the request's fields and query parameters may be, checked where they enter the portal.

Blueprints read numbers and passwords from `request.form`, `request.args` and the path through
these helpers, so text that only looks like a number (other scripts' digits, superscripts, 40
digits, a minus sign) never reaches a database query, and a password the directory cannot be
sent is refused before any account is looked up, the same for every login name. Each helper
returns the clean value or raises InvalidField with a sentence for the page. One-time codes are
parsed where every code is compared (services/codes.typed_code), whichever page it came from.
"""
from __future__ import annotations

import re

from flask import Flask
from flask_babel import gettext as _
from werkzeug.routing import Map
from werkzeug.routing.converters import NumberConverter

from ..adapters.directory.passwords import REFUSED_MESSAGE, refused

MAX_ROW_ID = 2**31 - 1  # the largest id of an Integer column in every database the portal runs on
ASCII_DIGITS = re.compile(r"[0-9]+")


class InvalidField(ValueError):
    """A field that cannot be what the form asks for; `message` says what to type instead."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def bounded_int(value: str | None, name: str, lowest: int = 1, highest: int = MAX_ROW_ID) -> int | None:
    """A whole number from lowest to highest written in ASCII digits; None when the field is empty."""
    if not value:
        return None
    number = int(value) if len(value) <= len(str(highest)) and ASCII_DIGITS.fullmatch(value) else None
    if number is None or not lowest <= number <= highest:
        raise InvalidField(_("'%(name)s' must be a whole number from %(lowest)d to %(highest)d.",
                             name=name, lowest=lowest, highest=highest))
    return number


def password(value: str | None) -> str:
    """A password exactly as typed (nothing trimmed or mapped); InvalidField when it holds a
    character no directory is sent (adapters/directory/passwords.py says which)."""
    typed = value or ""
    if refused(typed):
        raise InvalidField(str(REFUSED_MESSAGE))
    return typed


class RowIdConverter(NumberConverter):
    """`<id:name>` in a route: ASCII digits that fit an Integer column; anything else is a 404."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map: Map) -> None:  # noqa: A002 - werkzeug's parameter name
        super().__init__(map, min=1, max=MAX_ROW_ID)


def install(app: Flask) -> None:
    """Routes name row ids `<id:...>` (a werkzeug `int` takes "١٢٣" and 40 digits alike)."""
    app.url_map.converters["id"] = RowIdConverter
