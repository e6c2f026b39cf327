"""Settings of the directory the portal writes passwords to (OpenLDAP or Active Directory)."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from . import checks
from .engine import setting


def _ldap_url(v: str) -> str | None:
    parts = urlsplit(v)
    if parts.scheme in ("ldap", "ldaps") and parts.hostname:
        return None
    return f"must be an ldap:// or ldaps:// URL such as ldaps://dc1.contoso.com (got {v!r})"


@dataclass(frozen=True, kw_only=True)
class DirectorySettings:
    kind: str = setting(check=checks.one_of(("openldap", "active_directory")))
    url: str = setting(check=_ldap_url)
    bind_dn: str = setting(check=checks.non_empty)
    bind_password: str = setting(check=checks.non_empty, secret=True)
    base_dn: str = setting(check=checks.non_empty)
    start_tls: bool = setting(False)
    allow_plaintext: bool = setting(False)
    ca_file: str = setting("")
    timeout_seconds: int = setting(5, check=checks.between(1, 60))
