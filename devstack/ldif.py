"""Write LDIF (RFC 2849) for the dev stack's seed data and test entries.

Both directories of the dev stack are filled through their own LDAP servers from LDIF text, so
that overlays and schema checks apply exactly as in production. Test entries carry awkward values
on purpose (DN specials, spaces, non-ASCII, 64+ character passwords): any value that is not plain
safe ASCII is base64-encoded here, so no test has to think about LDIF quoting.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping

# RFC 2849 SAFE-STRING: no leading space, colon or '<', no trailing space, printable ASCII only.
_SAFE = re.compile(r"^(?![ :<])[\x20-\x7e]*(?<! )$")
_DN_SPECIALS = re.compile(r'([,+"\\<>;=#])')

Values = str | Iterable[str]


def escape_rdn_value(value: str) -> str:
    """Escape one RDN value (RFC 4514), so test logins like `a,b+c=d#e\\f` make valid DNs."""
    escaped = _DN_SPECIALS.sub(r"\\\1", value)
    if escaped.startswith(" "):
        escaped = "\\" + escaped
    if escaped.endswith(" ") and not escaped.endswith("\\ "):
        escaped = escaped[:-1] + "\\ "
    return escaped.replace("\x00", "\\00")


def line(name: str, value: str) -> str:
    if value and _SAFE.match(value):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


def _values(values: Values) -> list[str]:
    return [values] if isinstance(values, str) else list(values)


def entry(dn: str, attributes: Mapping[str, Values]) -> str:
    """One add record."""
    lines = [line("dn", dn)]
    for name, values in attributes.items():
        lines.extend(line(name, value) for value in _values(values))
    return "\n".join(lines) + "\n"


def modify(dn: str, *, replace: Mapping[str, Values] | None = None,
           delete: Iterable[str] = (), add: Mapping[str, Values] | None = None) -> str:
    """One modify record; `delete` removes whole attributes."""
    lines = [line("dn", dn), "changetype: modify"]
    for op, changes in (("replace", replace or {}), ("add", add or {})):
        for name, values in changes.items():
            lines.append(f"{op}: {name}")
            lines.extend(line(name, value) for value in _values(values))
            lines.append("-")
    for name in delete:
        lines.extend((f"delete: {name}", "-"))
    return "\n".join(lines) + "\n"


def document(records: Iterable[str]) -> str:
    return "\n".join(records)
