"""Settings of the directory the portal writes passwords to (OpenLDAP or Active Directory).

Empty values of the attribute and filter keys mean "the usual for this kind of directory"
(see portal/adapters/directory/mapping.py); config/portal.example.toml documents each key.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import checks
from .engine import setting

KINDS = ("openldap", "active_directory")
ATTRIBUTE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,62}$")


def _ldap_url(v: str) -> str | None:
    parts = urlsplit(v)
    if parts.scheme in ("ldap", "ldaps") and parts.hostname and parts.path in ("", "/"):
        return None
    return f"must be an ldap:// or ldaps:// URL such as ldaps://dc1.contoso.com (got {v!r})"


def _attribute(v: str) -> str | None:
    return None if ATTRIBUTE.match(v) else f"must be an LDAP attribute name such as mail (got {v!r})"


def _optional_attribute(v: str) -> str | None:
    return None if not v else _attribute(v)


def _dn(v: str) -> str | None:
    return None if "=" in v and not v.startswith(("(", " ")) else \
        f"must be a distinguished name such as OU=People,DC=contoso,DC=com (got {v!r})"


def _optional_dn(v: str) -> str | None:
    return None if not v else _dn(v)


def _filter(v: str) -> str | None:
    """Only a shape check: a wrong filter is reported by `directory check` with the server's words."""
    if not v:
        return None
    depth = 0
    for char in v:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if v.startswith("(") and v.endswith(")") and depth == 0:
        return None
    return f"must be an LDAP filter in parentheses such as (objectClass=inetOrgPerson) (got {v!r})"


def _pem_file(v: str) -> str | None:
    return None if not v or Path(v).is_file() else f"must name an existing PEM file (got {v!r})"


@dataclass(frozen=True, kw_only=True)
class DirectorySettings:
    kind: str = setting(check=checks.one_of(KINDS))
    url: str = setting(check=_ldap_url)
    bind_dn: str = setting(check=checks.non_empty)
    bind_password: str = setting(check=checks.non_empty, secret=True)
    base_dn: str = setting(check=_dn)
    extra_base_dns: list[str] = setting([], check=checks.each(_dn))
    group_base_dn: str = setting("", check=_optional_dn)
    user_filter: str = setting("", check=_filter)
    login_attributes: list[str] = setting([], check=checks.each(_attribute))
    email_attribute: str = setting("mail", check=_attribute)
    alternate_email_attribute: str = setting("", check=_optional_attribute)
    mobile_attribute: str = setting("mobile", check=_optional_attribute)
    display_name_attribute: str = setting("displayName", check=_attribute)
    # the language mail is written in when the person has not used the portal yet ("" = none)
    language_attribute: str = setting("preferredLanguage", check=_optional_attribute)
    extra_attributes: list[str] = setting([], check=checks.each(_attribute))
    protected_accounts: list[str] = setting([])
    protected_groups: list[str] = setting([])
    password_policy_dn: str = setting("", check=_optional_dn)
    # an ordinary account `flask --app wsgi doctor` probes the service account's rights on (never changed)
    doctor_test_account: str = setting("")
    ad_policy_hints: bool = setting(False)
    start_tls: bool = setting(False)
    allow_plaintext: bool = setting(False)
    ca_file: str = setting("", check=_pem_file)
    tls_server_name: str = setting("", check=lambda v: None if not v else checks.host_name(v.lower()))
    timeout_seconds: int = setting(5, check=checks.between(1, 60))
    pool_size: int = setting(4, check=checks.between(1, 50))
    pool_max_idle_seconds: int = setting(300, check=checks.between(10, 3600))
