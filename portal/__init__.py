"""The self-service password portal: `create_app()` builds it from the settings file."""
from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .settings import Problem, Settings, SettingsError, load_settings
from .settings.sections import RateLimitSettings

if TYPE_CHECKING:
    from babel import Locale
    from flask import Blueprint

    from .branding import ThemeRegistry
    from .services.container import Collaborators
    from .services.passwords.rules import PasswordRules
    from .store import Store

PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app; raise SettingsError (every problem listed) rather than start half-configured."""
    from .branding import ThemeRegistry
    from .branding.catalogues import Catalogues
    from .services.passwords.rules import PasswordRules

    settings = settings or load_settings()
    problems: list[Problem] = []
    themes = ThemeRegistry.load(settings, PROJECT_ROOT, problems)
    password_rules = PasswordRules.load(settings.passwords, problems)
    if problems or themes is None:
        raise SettingsError(problems)
    catalogues = Catalogues.load(settings.i18n.languages, settings.i18n.default, themes.themes,
                                 [text.strip() for text in settings.registration.questions.custom], problems)
    if problems:
        raise SettingsError(problems)

    app = Flask(__name__, static_folder=None)
    app.extensions["settings"] = settings
    app.extensions["themes"] = themes
    app.extensions["catalogues"] = catalogues
    _configure(app, settings, themes, password_rules)
    return app


def _configure(app: Flask, settings: Settings, themes: ThemeRegistry, password_rules: PasswordRules) -> None:
    from .branding import templating
    from .commands import register_commands
    from .extensions import babel, csrf, limiter
    from .services import container
    from .services.reporting.readiness import add_readiness_check
    from .store import Store
    from .store.migrate import SchemaWatch
    from .web import errors, fields, headers, hosts, languages, registration_gate, schema_gate
    from .web import logging as app_logging
    from .web.sessions import StoreSessionInterface

    app_logging.configure(settings.log_level)
    if settings.demo and not settings.secret_key:
        log.warning("demo mode: using a random secret key for this process only")
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_urlsafe(48),
        MAX_CONTENT_LENGTH=settings.max_content_length,
        SESSION_COOKIE_NAME=settings.session_cookie_name,
        SESSION_COOKIE_PATH="/",  # and no Domain: what the __Host- prefix requires
        SESSION_COOKIE_SECURE=settings.https,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PREFERRED_URL_SCHEME="https" if settings.https else "http",
        WTF_CSRF_TIME_LIMIT=settings.session.absolute_minutes * 60,
        WTF_CSRF_SSL_STRICT=settings.https,
        **_rate_limit_config(settings.rate_limits),
        BABEL_DEFAULT_LOCALE=settings.i18n.default,
    )
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        # Flask's documented way to wrap the WSGI app, though its type says wsgi_app is a method
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0, x_port=0,  # type: ignore[method-assign]
                                x_prefix=0)

    templating.install(app, Path(__file__).with_name("templates"), themes.themes)
    store = Store(settings.database.url, PROJECT_ROOT)
    store.init_app(app)
    csrf.init_app(app)
    app.session_interface = StoreSessionInterface(store, settings, app.config["SECRET_KEY"],
                                                  app.config["WTF_CSRF_FIELD_NAME"])  # set by csrf.init_app
    limiter.init_app(app)
    babel.init_app(app, locale_selector=languages.request_language)
    built = _collaborators(app, settings, store, themes, password_rules)
    container.install(app, built)

    app_logging.install(app)
    hosts.install(app, themes)
    headers.install(app, settings)
    errors.install(app)
    _template_context(app)
    if "register" in settings.builtin_actions:
        registration_gate.install(app)
    fields.install(app)
    for blueprint in _blueprints(built):
        app.register_blueprint(blueprint)
    schema = SchemaWatch(store)
    schema_gate.install(app, schema)
    add_readiness_check(app, "database", store.ping)
    add_readiness_check(app, "schema", schema.check)
    if built.configured_directory is not None:
        add_readiness_check(app, "directory", built.configured_directory.ping)
    register_commands(app)
    if click.get_current_context(silent=True) is None:
        # a server starting; a command line says nothing here, `store upgrade` being one of them
        schema.report_at_start()


def _rate_limit_config(limits: RateLimitSettings) -> dict[str, object]:
    """Flask-Limiter's storage. One that cannot be reached raises StorageError (errors.py makes it a
    503 page): no in-memory fallback and no swallowed errors, which would both let attempts through
    uncounted across processes. Redis must answer within seconds, or the request is refused."""
    options: dict[str, object] = {"wrap_exceptions": True}
    if limits.storage_uri != "memory://":
        options |= {"key_prefix": limits.key_prefix, "socket_connect_timeout": 2, "socket_timeout": 2}
    return {"RATELIMIT_STORAGE_URI": limits.storage_uri, "RATELIMIT_STORAGE_OPTIONS": options,
            "RATELIMIT_SWALLOW_ERRORS": False, "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False,
            "RATELIMIT_HEADERS_ENABLED": True}


def _collaborators(app: Flask, settings: Settings, store: Store, themes: ThemeRegistry,
                   password_rules: PasswordRules) -> Collaborators:
    """Built once; the directory and the OIDC client only where configured and used (link mode has
    neither: blueprints/external.py)."""
    from . import clock
    from .adapters import directory
    from .services.container import Collaborators
    from .services.identity.oidc import OidcSignIn
    from .services.messaging import outbox
    from .services.proofs import codes

    used = settings.serves_accounts
    if not used and (settings.oidc or settings.directory):
        log.warning("every action is a link and [admin] groups is empty: [oidc] and [directory] are not used")
    return Collaborators(
        settings=settings, store=store, outbox=outbox.init_app(app, settings, store),
        codes=codes.init_app(app, settings.codes), themes=themes, clock=clock, password_rules=password_rules,
        configured_directory=directory.init_app(app, settings.directory) if used and settings.directory else None,
        configured_oidc=OidcSignIn(app, settings.oidc) if used and settings.oidc else None)


def _blueprints(c: Collaborators) -> list[Blueprint]:
    """The routes this configuration serves: built-in actions, the redirects of those set to a URL,
    sign-in and /admin only with what they need (what each combination serves: blueprints/external.py)."""
    from .blueprints import (admin, auth, change, enforce, external, health, helpdesk, landing, language, register,
                             reset)
    from .branding import static

    builtin = c.settings.builtin_actions
    chosen = [static.bp, landing.bp, language.bp]
    chosen += [auth.bp] if c.configured_oidc is not None else []
    chosen += [health.bp]
    chosen += [register.bp, enforce.bp] if "register" in builtin else []
    chosen += [reset.bp] if "reset" in builtin else []
    chosen += [change.bp] if "change" in builtin else []
    staff = c.configured_oidc is not None and c.configured_directory is not None
    chosen += [admin.bp] if staff else []
    chosen += [helpdesk.bp] if staff and c.settings.helpdesk.groups else []
    redirects = external.blueprint(c.settings)
    return chosen + ([redirects] if redirects is not None else [])


def _template_context(app: Flask) -> None:
    from flask_babel import get_locale

    from .branding.catalogues import current_brand
    from .branding.markdown import render as render_markdown
    from .web.identity import current_user
    from .web.languages import switcher

    app.add_template_filter(render_markdown, "markdown")

    @app.context_processor
    def _globals() -> dict[str, object]:
        # plain data and safe helpers only: templates render sandboxed (branding/templating.py)
        return {"brand": current_brand(), "current_user": current_user(), "get_locale": get_locale,
                "languages": switcher()}
