"""Mail and SMS texts rendered from templates through the theme, then queued in the outbox.

Templates live in templates/mail/ and templates/sms/ like pages, so a theme overrides a message
the same way it overrides a page: `<name>.subject.txt`, `<name>.txt` and `<name>.html` for mail,
`<name>.txt` for SMS. They render in the sandbox (branding/sandbox.py), inside a request or from
the CLI. Links inside them come from `external_url` (base_url), never the Host header.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from markupsafe import escape
from sqlalchemy.orm import Session

from ...adapters.mail import Mail
from ...branding import current_theme, sandbox
from .links import external_url, logo_url
from .outbox import Outbox


def outbox() -> Outbox:
    found: Outbox = current_app.extensions["outbox"]
    return found


def render_mail(template: str, to: str, **context: Any) -> Mail:
    context.setdefault("portal_url", external_url("landing.index"))
    context.setdefault("logo_url", logo_url(current_app.extensions["settings"], current_theme()))
    subject = " ".join(sandbox.render(f"mail/{template}.subject.txt", **context).split())
    return Mail(to=to, subject=subject, text=sandbox.render(f"mail/{template}.txt", **context),
                html=sandbox.render(f"mail/{template}.html", **context))


def form_mail(template: str, name_variable: str, **context: Any) -> Callable[[str, str], Mail]:
    """`fill(to, name)`: the mail `render_mail(template, to, **{name_variable: name}, **context)`
    gives, with the templates rendered once for any number of recipients (a campaign's batch).

    They are rendered with two stand-in names, a short and a long one, with a space, capitals and
    HTML specials, marked by characters of Unicode's private use area that no template holds; the
    name is then put where the stand-in came out, escaped where the template escaped it. That is
    only right while the template shows the name as it is: one that changes it (a filter, a
    first word) or tests its length renders the stand-ins differently from what putting one in
    place of the other gives, and is then rendered per recipient, as are empty names (a template
    may leave out the greeting for those)."""
    short, long = (f"{_private_use()}a B<", f"{_private_use()}Lorem Ipsum Dolor & Sit Amet Consectetur "
                                            f"Adipiscing Elit Sed Do Eiusmod <Tempor>{_private_use()}")

    def each(to: str, name: str) -> Mail:
        return render_mail(template, to, **{name_variable: name}, **context)

    first, second = each("", short), each("", long)
    if _put_in(first, short, long, "") != second:
        return each

    def fill(to: str, name: str) -> Mail:
        return _put_in(first, short, name, to) if name.strip() else each(to, name)
    return fill


def _private_use() -> str:
    return chr(0xE000 + secrets.randbelow(0x1900))


def _put_in(mail: Mail, stand_in: str, name: str, to: str) -> Mail:
    def put(text: str) -> str:
        return text.replace(str(escape(stand_in)), str(escape(name))).replace(stand_in, name)
    return Mail(to=to, subject=" ".join(put(mail.subject).split()), text=put(mail.text),
                html=put(mail.html) if mail.html is not None else None)


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
