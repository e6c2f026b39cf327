"""Compare and take apart DNs the way directories write them (RFC 4514).

Servers escape differently (slapd writes `uid=a\\2Cb#c`, AD `CN=a\\,b\\#c`), and ldap3's own parser
rejects some valid DNs (an unescaped `#` inside a value), so the portal reads DNs with this small
parser. It is only ever given DNs that came from the directory or the settings, never input.
"""
from __future__ import annotations

import re

RDN = tuple[tuple[str, str], ...]  # one RDN: (lower-case attribute type, unescaped value) pairs
_HEX_PAIR = re.compile(r"[0-9A-Fa-f]{2}")


def parse(dn: str) -> tuple[RDN, ...]:
    """`uid=a\\,b,ou=people` -> ((("uid", "a,b"),), (("ou", "people"),)); ValueError if malformed."""
    rdns: list[RDN] = []
    pairs: list[tuple[str, str]] = []
    attribute, value, raw = "", bytearray(), ""
    in_value = False
    i = 0
    while i < len(dn):
        char = dn[i]
        if char == "\\" and in_value:
            pair = dn[i + 1:i + 3]
            if _HEX_PAIR.fullmatch(pair):
                value.append(int(pair, 16))
                i += 3
                continue
            if i + 1 >= len(dn):
                raise ValueError(f"DN ends in a backslash: {dn!r}")
            value.extend(dn[i + 1].encode())
            i += 2
            continue
        if char == "=" and not in_value:
            attribute, in_value = raw.strip().lower(), True
        elif char in ",+" and in_value:
            pairs.append((attribute, value.decode().strip(" ")))
            if char == ",":
                rdns.append(tuple(pairs))
                pairs = []
            attribute, value, raw, in_value = "", bytearray(), "", False
        elif in_value:
            value.extend(char.encode())
        else:
            raw += char
        i += 1
    if not in_value or not attribute:
        raise ValueError(f"not a DN: {dn!r}")
    pairs.append((attribute, value.decode().strip(" ")))
    rdns.append(tuple(pairs))
    return tuple(rdns)


def normalized(dn: str) -> tuple[RDN, ...]:
    """A comparable form: directories compare names in DNs without regard to case. `lower()`,
    not `casefold()`: that would also make `uid=straße` and `uid=strasse` one DN."""
    return tuple(tuple(sorted((a, v.lower()) for a, v in rdn)) for rdn in parse(dn))


def same(a: str, b: str) -> bool:
    try:
        return normalized(a) == normalized(b)
    except ValueError:
        return False


def is_within(dn: str, base: str) -> bool:
    """True when `dn` is `base` or below it."""
    try:
        entry, suffix = normalized(dn), normalized(base)
    except ValueError:
        return False
    return len(entry) >= len(suffix) and entry[len(entry) - len(suffix):] == suffix


def first_value(dn: str) -> str:
    """The value of the first RDN: a group's name from its DN."""
    return parse(dn)[0][0][1]


def domain_root(dn: str) -> str:
    """The DC= components of `dn`: AD's naming context, where groups are searched by default."""
    return ",".join(f"DC={value}" for rdn in parse(dn) for attribute, value in rdn if attribute == "dc")
