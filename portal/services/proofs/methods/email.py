"""Alternate email addresses: a light syntax check here, the code sent there proves the rest."""
from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ....adapters.directory.model import DirectoryUser
from ....settings.registration import PhoneSettings
from .base import Channel, InvalidEntry, Member, Proves, Registers

KEY = "email"

# One @, no spaces or control characters, a dotted domain: full RFC 5322 syntax is neither needed
# nor wanted (a quoted local part with spaces is legal and only ever a mistake here).
ADDRESS = re.compile(r"^[^@\s\"(),:;<>\[\\\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


def normalize_address(text: str) -> str:
    """The address with its domain lower-cased; InvalidEntry when it is not a usable address."""
    address = unicodedata.normalize("NFKC", text or "").strip()
    if len(address) > 254 or any(unicodedata.category(ch)[0] == "C" for ch in address) \
            or not ADDRESS.match(address):
        raise InvalidEntry(_("Enter an email address such as name@example.com."))
    local, _at, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def same_address(first: str | None, second: str | None) -> bool:
    return bool(first and second) and first.casefold() == second.casefold()  # type: ignore[union-attr]


def mask_address(address: str) -> str:
    """`a•••e@mail.example`: enough for the owner to recognise it, not enough to learn it."""
    local, _at, domain = address.rpartition("@")
    shown = local[0] + "•••" + (local[-1] if len(local) > 2 else "")
    return f"{shown}@{domain}"



class AlternateEmail(Member):
    """An address outside work, proven by a code mailed there; the directory may hold one too."""

    def masked(self, value: str) -> str:
        return mask_address(value)

    def normalize(self, text: str, phone: PhoneSettings) -> str:
        return normalize_address(text)

    def directory_value(self, user: DirectoryUser) -> str | None:
        return user.alternate_emails[0] if user.alternate_emails else None


METHOD = AlternateEmail(key=KEY, registers=Registers.DESTINATION, proves=Proves.SENT_CODE, channel=Channel.MAIL,
                        allowed_for_admins=True, title=_l("Alternate email"), in_sentence=_l("alternate email"))
