"""Flask extensions shared by blueprints, bound to the app in create_app()."""
from __future__ import annotations

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name, get_remote_address
from flask_wtf import CSRFProtect


class RouteLimiter(Limiter):
    """Flask-Limiter, without its before-request check on routes that have no limit of their own.

    Flask-Limiter runs that check on every request, for limits that apply beyond one route
    (application, default, blueprint, meta and fallback limits); the limits of a decorated route
    are checked by its decorator. The portal sets none of the first kind, so on an unlimited route
    the check finds nothing and only costs time (about 75 us a request, measured). It is skipped
    there, and only there: decorated routes keep it, and so does every route as soon as a limit
    of the first kind exists (Flask-Limiter keeps them on the limiter, as this check reads them).
    """

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


csrf = CSRFProtect()
babel = Babel()
limiter = RouteLimiter(key_func=get_remote_address)
