"""Security headers on every response, built once from settings."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

from ..settings import Settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """No inline script or style anywhere; forms may only post here or hand over to the provider.

    `form-action` covers redirects after a form post in Chromium, so sign-out (a POST that ends
    at the provider's end-session page) needs the provider's origin.
    """
    return "; ".join((
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        f"form-action 'self' {_origin(settings.oidc.issuer)}" if settings.oidc else "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ))


def install(app: Flask, settings: Settings) -> None:
    fixed = {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if settings.https:
        fixed["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.update(fixed)
        if request.blueprint != "assets":
            # pages can carry personal data and one-time state: never keep them in a cache
            response.headers["Cache-Control"] = "no-store"
        return response
