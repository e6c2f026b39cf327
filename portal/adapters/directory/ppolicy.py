"""OpenLDAP's password policy response control (draft-behera-ldap-password-policy).

slapd says WHY a bind or a password change failed only in this control: a locked account's
correct password fails with result 49 and an empty message, exactly like a wrong password. The
control's value is small fixed-shape BER, read here by hand:

    SEQUENCE { warning [0] CHOICE { timeBeforeExpiration [0] INTEGER,
                                    graceAuthNsRemaining [1] INTEGER } OPTIONAL,
               error   [1] ENUMERATED OPTIONAL }
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

OID = "1.3.6.1.4.1.42.2.27.8.5.1"
REQUEST = (OID, False, None)  # ask for the control with every bind and password operation

PASSWORD_EXPIRED = 0
ACCOUNT_LOCKED = 1
CHANGE_AFTER_RESET = 2
PASSWORD_MOD_NOT_ALLOWED = 3
MUST_SUPPLY_OLD_PASSWORD = 4
INSUFFICIENT_QUALITY = 5
PASSWORD_TOO_SHORT = 6
PASSWORD_TOO_YOUNG = 7
PASSWORD_IN_HISTORY = 8
PASSWORD_TOO_LONG = 9


@dataclass(frozen=True)
class PolicyResponse:
    error: int | None = None
    seconds_before_expiration: int | None = None
    grace_logins_remaining: int | None = None


def _tlvs(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(tag, value) pairs of concatenated BER elements (definite lengths only, as LDAP uses)."""
    at = 0
    while at < len(data):
        tag, length = data[at], data[at + 1]
        at += 2
        if length & 0x80:
            size = length & 0x7F
            length = int.from_bytes(data[at:at + size], "big")
            at += size
        yield tag, data[at:at + length]
        at += length


def decode(value: bytes) -> PolicyResponse:
    """Decode the control value; malformed input raises ValueError (never guessed)."""
    try:
        (tag, body), = _tlvs(value)
        if tag != 0x30:
            raise ValueError(f"expected a SEQUENCE, got tag {tag:#x}")
        fields: dict[str, int] = {}
        for tag, content in _tlvs(body):
            if tag == 0xA0:  # warning
                (inner_tag, number), = _tlvs(content)
                name = {0x80: "seconds_before_expiration", 0x81: "grace_logins_remaining"}[inner_tag]
                fields[name] = int.from_bytes(number, "big")
            elif tag == 0x81:  # error
                fields["error"] = int.from_bytes(content, "big")
        return PolicyResponse(**fields)
    except (IndexError, KeyError, TypeError) as error:
        raise ValueError(f"malformed password policy control: {value.hex()}") from error


def from_result(result: Mapping[str, Any]) -> PolicyResponse:
    """The control in an ldap3 result, or an empty response when the server sent none."""
    control = (result.get("controls") or {}).get(OID)
    if not control or not control.get("value"):
        return PolicyResponse()
    return decode(control["value"])
