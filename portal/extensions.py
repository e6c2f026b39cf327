"""Flask extensions shared by blueprints, bound to the app in create_app()."""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from babel.support import NullTranslations
from flask import Flask, current_app
from flask.globals import request_ctx
from flask_babel import Babel, Domain, _get_current_context, get_locale
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name, get_remote_address
from flask_wtf import CSRFProtect
from werkzeug.utils import cached_property

if TYPE_CHECKING:
    from .branding.catalogues import Catalogues

T = TypeVar("T")


class RouteLimiter(Limiter):
    """Flask-Limiter, without its before-request check on routes that have no limit of their own.

    Flask-Limiter runs that check on every request, for limits that apply beyond one route
    (application, default, blueprint, meta and fallback limits); the limits of a decorated route
    are checked by its decorator. The portal sets none of the first kind, so on an unlimited route
    the check finds nothing and only costs time (about 75 us a request, measured). It is skipped
    there, and only there: decorated routes keep it, and so does every route as soon as a limit
    of the first kind exists (Flask-Limiter keeps them on the limiter, as this check reads them).
    """

    def init_app(self, app: Flask) -> None:
        """Flask-Limiter's set-up, with its after-request hook (rate-limit headers) and its
        teardown skipped on a request in which it checked nothing, such as one to an unlimited
        route (above). Both would create its per-request state only to find it empty (about 50 us
        a request, measured); whatever checks a limit creates that state, and then both run."""
        super().init_app(app)
        hooks = (partial(Limiter._Limiter__inject_headers, self),  # type: ignore[attr-defined]
                 self._Limiter__release_context)  # type: ignore[attr-defined]
        for registered in (app.after_request_funcs.setdefault(None, []),
                           app.teardown_request_funcs.setdefault(None, [])):
            registered[:] = [_when_limiter_used(f) if _same_hook(f, hooks) else f for f in registered]

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and not self._beyond_routes() and not self._decorated(self.identify_request()):
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _beyond_routes(self) -> bool:
        """Whether a limit exists that the before-request check applies beyond decorated routes."""
        manager = self.limit_manager
        return bool(manager._application_limits or manager._default_limits or manager._blueprint_limits
                    or self._meta_limits or self._in_memory_fallback)

    def _decorated(self, endpoint: str | None) -> bool:
        """Whether the endpoint's view carries a limit (as Flask-Limiter names it), or has used one."""
        if not endpoint:  # no route: Flask-Limiter applies nothing either
            return False
        view = current_app.view_functions.get(endpoint)
        return ((view is not None and get_qualified_name(view) in self._marked_for_limiting)
                or self.limit_manager.has_hints(endpoint))


LIMITER_STATE = "_limiter_request_context"  # where Flask-Limiter keeps a request's state, on the request context


def _same_hook(registered: Any, hooks: tuple[Any, ...]) -> bool:
    """Whether `registered` is one of Flask-Limiter's hooks (a partial or a bound method of it)."""
    for hook in hooks:
        if isinstance(hook, partial):
            if isinstance(registered, partial) and registered.func is hook.func and registered.args == hook.args:
                return True
        elif registered == hook:
            return True
    return False


def _when_limiter_used(hook: Callable[[T], T]) -> Callable[[T], T]:
    def run(value: T) -> T:
        return hook(value) if hasattr(request_ctx, LIMITER_STATE) else value
    return run


class RequestDomain(Domain):
    """Flask-Babel's message domain, reading the portal's catalogues (the theme's wording laid over
    the shipped one: branding/catalogues.py), with the request's catalogue resolved once, not per string.

    Flask-Babel would look up the locale and then its catalogue cache again for every string it
    translates (about 180 us over a page, measured). The catalogue found first is kept in the
    per-request slot Flask-Babel set aside for it (`babel_translations`), which its `refresh()`
    and `force_locale()` empty, so a locale changed during a request is still honoured; and it is
    kept with its theme's name, so a mail rendered in another theme (`use_theme`) gets that theme's.
    """

    def get_translations(self) -> NullTranslations:
        from .branding.registry import current_theme

        context = _get_current_context()
        if context is None:  # outside any app context: Flask-Babel's own answer (no translation)
            return super().get_translations()
        theme = current_theme().name
        translations: NullTranslations | None = getattr(context, "babel_translations", None)
        if translations is None or getattr(context, "babel_translations_theme", None) != theme:
            catalogues: Catalogues = current_app.extensions["catalogues"]
            translations = context.babel_translations = catalogues.get(theme, str(get_locale()))
            context.babel_translations_theme = theme
        return translations


class RequestBabel(Babel):
    """Flask-Babel whose default domain is a RequestDomain (for Python code and templates alike)."""

    @cached_property
    def domain_instance(self) -> Domain:
        return RequestDomain(domain=self.domain)

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        """Flask-Babel's set-up, with the templates' `_`, `ngettext`... asking this domain directly.

        Flask-Babel's own callables look the domain up in the request context first, for every
        string (about 2 us each, seven strings on the landing page); that lookup always finds this
        domain, since the portal has one Babel and no per-request domain."""
        super().init_app(app, *args, **kwargs)
        def translations() -> NullTranslations:
            return self.domain_instance.get_translations()

        app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # the i18n extension's
            gettext=lambda s: translations().ugettext(s),
            ngettext=lambda s, p, n: translations().ungettext(s, p, n),
            pgettext=lambda c, s: translations().upgettext(c, s),
            npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
            newstyle=True,
        )


csrf = CSRFProtect()
babel = RequestBabel()
limiter = RouteLimiter(key_func=get_remote_address)
