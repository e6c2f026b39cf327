"""Readiness: the checks /readyz runs (the database, its schema being at the code's migrations, and the
directory: without them nothing works),
and the checks of outside services the admin page reports on beside them.

The outside services are not part of /readyz: a mail server or SMS gateway that is down delays messages (the
outbox retries), it must not make a load balancer take the portal out of service. Each check raises when its service is not usable; none of them sends anything: the mail check
greets the SMTP server, the SMS check opens a TLS connection to the gateway (a probe message
would cost money and reach a phone), the identity-provider check reads its discovery document.
"""
from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from flask import Flask

from ..container import Collaborators
from ..identity.oidc import OidcSignIn, SignInError

log = logging.getLogger(__name__)

Check = Callable[[], None]  # raises when the service is not usable


def add_readiness_check(app: Flask, name: str, check: Check) -> None:
    """A check /readyz runs: the portal is not ready while it fails."""
    app.extensions.setdefault("readiness", {})[name] = check


def readiness_checks(app: Flask) -> dict[str, Check]:
    return dict(app.extensions.get("readiness", {}))


def run_checks(checks: Mapping[str, Check]) -> dict[str, str | None]:
    """Each check's name -> None when it passed, else the kind of error (for the admin page)."""
    results: dict[str, str | None] = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = None
        except Exception as error:  # noqa: BLE001 - a failed check is a result, not a crash
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            results[name] = type(error).__name__
    return results


def service_checks(c: Collaborators) -> dict[str, Check]:
    checks: dict[str, Check] = {"identity provider": lambda: _discover(c.oidc)}
    if c.outbox.mail is not None:
        checks["mail"] = c.outbox.mail.check
    sms = c.settings.sms
    url = {"webhook": sms.webhook.url, "twilio": sms.twilio.api_url}.get(sms.provider)
    if url:
        checks["sms"] = _reachable(url, sms.webhook.timeout_seconds)
    return checks


def _discover(oidc: OidcSignIn) -> None:
    try:
        oidc.metadata()
    except SignInError as error:
        raise ConnectionError(str(error)) from error


def _reachable(url: str, timeout: int) -> Check:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)

    def check() -> None:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout) as raw:
            if parts.scheme == "https":
                with ssl.create_default_context().wrap_socket(raw, server_hostname=parts.hostname):
                    pass
    return check
