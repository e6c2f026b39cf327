"""The landing page: the three things people come for, and the theme's own information."""
from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request, session
from flask_babel import get_locale

from ..branding import current_theme
from ..services.container import collaborators
from ..services.messaging.links import Action, available_actions
from ..web.identity import sign_in_offered

bp = Blueprint("landing", __name__)

CACHE = "landing_actions"  # the app's extensions key: (theme, language, script root) -> actions
PAGES = "landing_pages"  # the app's extensions key: (scheme, host, theme, language, script root) -> the page
MAX_PAGES = 256  # pages kept; beyond, each further key renders every time (the Host header is the client's)


@bp.get("/")
def index() -> str:
    """The page as the first visitor of its address (scheme, host, mount path: what url_for
    builds links from), theme and language saw it, for every visitor who brings nothing of their
    own: the sandboxed rendering was about half of a landing answer's CPU (profiled), and
    `make bench`'s landing figure went from 1.1-1.3 to 0.75-0.8 ms of server CPU an answer.

    Cached only what is the same for everyone: rendered for a session that holds at most the
    CSRF token (nobody signed in, no flashed message, no flow), and kept only when the rendering
    did not ask for a form token (the built-in page has no form; a theme's may add one, and
    then its page renders per visitor). Themes and templates are read at start-up; with Jinja's
    auto-reload on (development), nothing is kept."""
    key = _shared_page_key()
    if key is None:
        return _render()
    pages: dict[tuple[str, str, str, str, str], str] = current_app.extensions.setdefault(PAGES, {})
    page = pages.get(key)
    if page is None:
        page = _render()
        if _form_token_field() not in g and len(pages) < MAX_PAGES:
            pages[key] = page
    return page


def _render() -> str:
    return render_template("landing.html", actions=_actions(), sign_in_offered=sign_in_offered())


def _form_token_field() -> str:
    """Where Flask-WTF keeps the request's form token (in `g`) and its raw token (in the session)."""
    field: str = current_app.config["WTF_CSRF_FIELD_NAME"]
    return field


def _shared_page_key() -> tuple[str, str, str, str, str] | None:
    """The key of the page every visitor of this request's kind sees; None when this visitor's
    page may be their own."""
    field = _form_token_field()
    if current_app.jinja_env.auto_reload or field in g or not set(session) <= {field}:
        return None
    return request.scheme, request.host.lower(), current_theme().name, str(get_locale()), request.script_root


def _actions() -> tuple[Action, ...]:
    """The actions, worked out once per theme, language and path the portal is mounted under.

    They follow from the settings and the routes, both fixed at start-up, from the language and
    the theme (their titles: a theme may word them its own way, branding/catalogues.py) and from
    the script root (their links), so those three are the key. The page takes each description
    from its own theme by `description_key`."""
    cache: dict[tuple[str, str, str], tuple[Action, ...]] = current_app.extensions.setdefault(CACHE, {})
    key = (current_theme().name, str(get_locale()), request.script_root)
    actions = cache.get(key)
    if actions is None:  # two threads may both work it out once: the same answer either way
        actions = cache[key] = tuple(available_actions(collaborators().settings))
    return actions
