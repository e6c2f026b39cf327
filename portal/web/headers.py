"""Security headers on every response, built once from settings."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from ..settings import Settings
from .registration_gate import returning_elsewhere

F = TypeVar("F", bound=Callable[..., object])
LEADS_BACK = "_forms_may_lead_back"  # the attribute `forms_may_lead_back` puts on a view
SHOWS_MAIL = "_shows_mail"  # the attribute `shows_mail` puts on a view


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings, form_targets: Iterable[str] = (), inline_styles: bool = False) -> str:
    """No inline script or style anywhere; forms may only post here or hand over to the provider,
    plus `form_targets` (origins) on the pages that need them. `inline_styles`: only for a page
    that shows a mail as it is (see `shows_mail`).

    `form-action` covers redirects after a form post in Chromium, so sign-out (a POST that ends
    at the provider's end-session page) needs the provider's origin.
    """
    provider = (_origin(settings.oidc.issuer),) if settings.oidc else ()
    form_action = " ".join(dict.fromkeys(("'self'", *provider, *map(_origin, form_targets))))
    return "; ".join((
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'" if inline_styles else "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        f"form-action {form_action}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ))


def forms_may_lead_back(view: F) -> F:
    """Mark a view whose page holds a form that can end an `/enforce` round trip.

    Such a form completes registration (or postpones it: "not now" on the notice page); the answer
    redirects to /enforce/continue and from there to the other application's `return_to`. Chromium applies the page's `form-action` to every
    redirect after the submit, so on these pages, while the session is on its way back to another
    application, the policy adds the allowed return origins (`registration.return_to_origins`,
    the list `return_to` is checked against). Every other page keeps the narrow policy: its forms
    end on the portal or at the provider, and a wider `form-action` there would only let an
    injected form send data to more places.
    """
    setattr(view, LEADS_BACK, True)
    return view


def shows_mail(view: F) -> F:
    """Mark a view that shows an HTML mail exactly as it is sent (an administrator's preview).

    Mail clients ignore stylesheets, so mails carry their styles inline (templates/mail/base.html);
    under the portal's policy the preview would show none of them, and the administrator would
    judge a mail that nobody receives. That page alone allows inline style: scripts, frames, other
    origins' images and forms stay forbidden, and the mail is the theme's template rendered in the
    sandbox with everything escaped.
    """
    setattr(view, SHOWS_MAIL, True)
    return view


def _marked(attribute: str) -> bool:
    return getattr(current_app.view_functions.get(request.endpoint or ""), attribute, False) is True


def _leads_back() -> bool:
    return _marked(LEADS_BACK) and returning_elsewhere()


def install(app: Flask, settings: Settings) -> None:
    fixed = {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        # same-origin, not no-referrer: over https the CSRF check (WTF_CSRF_SSL_STRICT) refuses a
        # form post without a same-origin Referer, and other sites still learn nothing
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if settings.https:
        fixed["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    leading_back = content_security_policy(settings, settings.registration.return_to_origins)
    mail_as_sent = content_security_policy(settings, inline_styles=True)

    pairs, names = list(fixed.items()), {name.lower() for name in fixed}

    @app.after_request
    def _security_headers(response: Response) -> Response:
        if names.isdisjoint(name.lower() for name, _value in response.headers):
            response.headers.extend(pairs)  # none there yet (nearly always): added without a search each
        else:
            response.headers.update(fixed)
        if _leads_back():
            response.headers["Content-Security-Policy"] = leading_back
        elif _marked(SHOWS_MAIL):
            response.headers["Content-Security-Policy"] = mail_as_sent
        if request.blueprint != "assets":
            # pages can carry personal data and one-time state: never keep them in a cache
            response.headers["Cache-Control"] = "no-store"
        return response
