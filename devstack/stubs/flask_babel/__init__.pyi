# The part of Flask-Babel 4.0 the portal uses. Flask-Babel annotates these itself but ships no
# py.typed marker, so mypy would not read them; the return types here are its own.
from collections.abc import Callable

from babel import Locale
from flask import Flask
from flask_babel.speaklater import LazyString

class Babel:
    def __init__(self, app: Flask | None = None, date_formats: dict[str, str | None] | None = None,
                 configure_jinja: bool = True) -> None: ...
    def init_app(self, app: Flask, default_locale: str = "en", default_domain: str = "messages",
                 default_translation_directories: str = "translations", default_timezone: str = "UTC",
                 locale_selector: Callable[[], str | None] | None = None,
                 timezone_selector: Callable[[], str | None] | None = None) -> None: ...

def get_locale() -> Locale | None: ...
def gettext(string: str, **variables: object) -> str: ...
def ngettext(singular: str, plural: str, num: int, **variables: object) -> str: ...
def lazy_gettext(string: str, **variables: object) -> LazyString: ...
