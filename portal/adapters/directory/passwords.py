"""Passwords go to the directory exactly as typed: these bytes, or a clear refusal before any bind.

ldap3 runs SASLprep (RFC 4013) over a simple bind's password when it is given a str: it maps a
no-break space to a space and deletes soft hyphens and zero-width characters, and raises on
control characters, private-use and bidirectional mixes. Password Modify and unicodePwd are
sent unprepared, so a password set with such characters was never the one a bind then sent:
the bind failed, and counted against the directory's lockout. Here every password becomes its
UTF-8 bytes, which ldap3 sends raw; Active Directory's unicodePwd is UTF-16LE of the same
characters (active_directory.unicode_pwd), which AD and Samba compare with a UTF-8 bind.

Refused, on bind, change and reset alike: control characters (C0, DEL, C1: NUL truncates a
password on Samba, and none can be typed into a password field), surrogates (not characters;
they cannot be encoded) and noncharacters (U+FFFE, U+FDD0...: reserved, never typed). Letters,
spaces of any kind, symbols, private-use and format characters (emoji joiners) are sent as typed.
"""
from __future__ import annotations

import unicodedata

from .errors import PasswordCharactersRefused

REFUSED_MESSAGE = PasswordCharactersRefused.message
REFUSED_CATEGORIES = {"Cc", "Cs"}


def _noncharacter(ch: str) -> bool:
    point = ord(ch)
    return 0xFDD0 <= point <= 0xFDEF or point & 0xFFFE == 0xFFFE


def refused(password: str) -> bool:
    """Whether `password` holds a character the portal never sends to a directory."""
    return any(unicodedata.category(ch) in REFUSED_CATEGORIES or _noncharacter(ch) for ch in password)


def check(password: str) -> str:
    """`password` unchanged; PasswordCharactersRefused (nothing sent) when refused()."""
    if refused(password):
        raise PasswordCharactersRefused("password holds a control, surrogate or noncharacter code point")
    return password


def as_typed(password: str) -> bytes:
    """The UTF-8 bytes of exactly what was typed: bind and Password Modify send these unprepared."""
    return check(password).encode("utf-8")
