"""Authenticator apps (TOTP, RFC 6238): enrolment by QR code, codes accepted once.

The QR code is drawn here as SVG (segno): an authenticator secret sent to a chart service would
be a secret shared with a stranger. Codes of the step before and after the current one are
accepted (clock drift of phones), and each step only once: after a step is used, that code and
every older one are refused, even if two requests race (the update is conditional).
"""
from __future__ import annotations

import hmac

import pyotp
import segno
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from .... import clock
from ....store import rows_changed
from ....store.security_info import AuthMethod
from ..codes import typed_code
from .base import Member, Proves, Registers

KEY = "totp"
STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
SEAL_PURPOSE = "totp-secret"


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits from `secrets`, as RFC 4226 recommends


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=account,
                                                                                     issuer_name=issuer)


def qr_svg_data_uri(uri: str) -> str:
    """An SVG data: URI (allowed by the portal's img-src CSP; no request leaves the page)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def current_step() -> int:
    return clock.timestamp() // STEP_SECONDS


def matching_step(secret: str, typed: str) -> int | None:
    """The time step whose code `typed` is (current one, or one step either side), else None."""
    candidate = typed_code(typed)
    if len(candidate) != DIGITS:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = current_step()
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), candidate):
            found = step  # no early exit: every candidate step is compared
    return found


def use_step(db: Session, method_id: int, step: int) -> bool:
    """Mark `step` used; False when it (or a later one) was used already."""
    return rows_changed(db, update(AuthMethod)
                        .where(AuthMethod.id == method_id,
                               or_(AuthMethod.last_used_step.is_(None), AuthMethod.last_used_step < step))
                        .values(last_used_step=step)) == 1



# an app showing a new code every 30 seconds from a secret shared once; not phishing-resistant: a
# look-alike page can ask for the current code and relay it
METHOD = Member(key=KEY, registers=Registers.SECRET, proves=Proves.CURRENT_CODE, channel=None,
                allowed_for_admins=True, title=_l("Authenticator app"), in_sentence=_l("authenticator app"))
