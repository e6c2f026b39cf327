"""/admin: settings, rollout and readiness, campaigns, reports, the audit log and webhook deliveries, for IT only.

The blueprint and the guard every route passes are in blueprint.py; each page's views are in a
module of their own, imported here so their routes are on `bp` when the app registers it.
"""
from . import audit, campaigns, overview, reports, reregistration, webhooks  # noqa: F401 - their routes are on `bp`
from .blueprint import bp

__all__ = ["bp"]
