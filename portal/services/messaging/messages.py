"""Mail and SMS texts rendered from templates through the theme, then queued in the outbox.

Templates live in templates/mail/ and templates/sms/ like pages, so a theme overrides a message
the same way it overrides a page: `<name>.subject.txt`, `<name>.txt` and `<name>.html` for mail,
`<name>.txt` for SMS. They render in the sandbox (branding/sandbox.py), inside a request or from
the CLI. Links inside them come from `external_url` (base_url), never the Host header.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from ...adapters.mail import Mail
from ...branding import sandbox
from .links import external_url
from .outbox import Outbox


def outbox() -> Outbox:
    found: Outbox = current_app.extensions["outbox"]
    return found


def render_mail(template: str, to: str, **context: Any) -> Mail:
    context.setdefault("portal_url", external_url("landing.index"))
    subject = " ".join(sandbox.render(f"mail/{template}.subject.txt", **context).split())
    return Mail(to=to, subject=subject, text=sandbox.render(f"mail/{template}.txt", **context),
                html=sandbox.render(f"mail/{template}.html", **context))


def render_sms(template: str, **context: Any) -> str:
    return " ".join(sandbox.render(f"sms/{template}.txt", **context).split())


def queue_mail(db: Session, template: str, to: str, *, purpose: str, expires_at: datetime | None = None,
               dedupe_key: str | None = None, **context: Any) -> bool:
    """Queue the mail; False when `dedupe_key` was queued before (nothing is sent twice)."""
    return outbox().enqueue_mail(db, render_mail(template, to, **context), purpose=purpose,
                                 expires_at=expires_at, dedupe_key=dedupe_key)


def queue_sms(db: Session, template: str, to: str, *, purpose: str, expires_at: datetime | None = None,
              **context: Any) -> None:
    outbox().enqueue_sms(db, to, render_sms(template, **context), purpose=purpose, expires_at=expires_at)
