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

import re

from .errors import PasswordCharactersRefused

REFUSED_MESSAGE = PasswordCharactersRefused.message
# Unicode's control characters (category Cc is exactly these two ranges), the surrogates, and the
# 66 noncharacters: U+FDD0..U+FDEF and the last two code points of each of the 17 planes.
REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
                     + "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
                     + "]")


def refused(password: str) -> bool:
    """Whether `password` holds a character the portal never sends to a directory."""
    return REFUSED.search(password) is not None


def check(password: str) -> str:
    """`password` unchanged; PasswordCharactersRefused (nothing sent) when refused()."""
    if refused(password):
        raise PasswordCharactersRefused("password holds a control, surrogate or noncharacter code point")
    return password


def as_typed(password: str) -> bytes:
    """The UTF-8 bytes of exactly what was typed: bind and Password Modify send these unprepared."""
    return check(password).encode("utf-8")
