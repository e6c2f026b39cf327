"""Which language a request is answered in: the one chosen with the switcher (a cookie), else the
browser's preferred one among [i18n] languages, else [i18n] default.

The choice needs no sign-in and is kept in a long-lived cookie (the session's Secure and SameSite
rules, `__Host-` on https), so it holds across sign-outs and flows; nothing else is kept in it.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from babel import Locale
from flask import current_app, has_request_context, request, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response

from ..branding.catalogues import negotiate
from ..settings import Settings
from ..settings.sections import HOST_PREFIX

COOKIE = "portal_language"
MEMO_SIZE = 1024  # Accept-Language values whose answer is remembered; beyond, each is worked out
_chosen: dict[tuple[str, tuple[str, ...]], str | None] = {}
COOKIE_SECONDS = 400 * 24 * 3600  # the longest lifetime browsers keep (Chromium caps at 400 days)


@dataclass(frozen=True)
class LanguageLink:
    """One entry of the switcher: the language's own name, where choosing it goes, whether it is in use."""

    code: str
    name: str
    url: str
    current: bool


def _settings() -> Settings:
    settings: Settings = current_app.extensions["settings"]
    return settings


def cookie_name(settings: Settings) -> str:
    return HOST_PREFIX + COOKIE if settings.https else COOKIE


def request_language() -> str:
    """The locale selector: the switcher's cookie, then Accept-Language, then the default.
    Outside a request (the CLI, the campaign sender) there is nobody to ask: the default."""
    languages = _settings().i18n
    if not has_request_context():
        return languages.default
    chosen = request.cookies.get(cookie_name(_settings()), "")
    if chosen in languages.languages:
        return chosen
    return _negotiated(tuple(languages.languages)) or languages.default


def _negotiated(offered: tuple[str, ...]) -> str | None:
    """The browser's best language among `offered`, remembered per Accept-Language value (bounded:
    the header is the client's). Browsers send a few distinct values, and parsing and matching
    cost about 30 us a request (measured), more than the rest of Babel."""
    key = (request.headers.get("Accept-Language", ""), offered)
    if key not in _chosen:
        found = negotiate(request.accept_languages, list(offered))
        if len(_chosen) >= MEMO_SIZE:
            return found
        _chosen[key] = found  # two threads may both work it out: the same answer
    return _chosen[key]


def same_site_path(target: str | None) -> str:
    """`target` when it is a path on this site (what the switcher comes back to), else the landing
    page: never a URL elsewhere (`//evil.example`, `/\\evil.example`, `https://...`)."""
    parts = urlsplit(target or "")
    if (not target or not target.startswith("/") or target.startswith(("//", "/\\"))
            or parts.scheme or parts.netloc or any(c in target for c in "\r\n\\")):
        return url_for("landing.index")
    return target


def remember(response: Response, code: str) -> Response:
    """Keep `code` (an offered language) as the browser's choice."""
    settings = _settings()
    response.set_cookie(cookie_name(settings), code, max_age=COOKIE_SECONDS, path="/", secure=settings.https,
                        httponly=True, samesite="Lax")
    return response


def switcher() -> list[LanguageLink]:
    """The switcher's links, each coming back to the page it is on (one language offered: none)."""
    languages = _settings().i18n.languages
    if len(languages) < 2 or not has_request_context() or request.endpoint is None:
        return []
    here = request.full_path.rstrip("?") if request.method == "GET" else request.path
    current = str(get_locale())
    return [LanguageLink(code, (Locale.parse(code).get_display_name(code) or code).capitalize(),
                         url_for("language.choose", code=code, next=here), code == current)
            for code in languages]
