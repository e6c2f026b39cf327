"""Test helpers that are plain functions and constants (fixtures live in conftest.py)."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from devstack import people
from devstack.oidc_provider import OidcProvider
from devstack.ports import TEST
from portal import PROJECT_ROOT

BASE_URL = TEST.portal_url
SECOND_URL = TEST.second_portal_url  # the same portal under a second host name (hosts_toml)
SECRET_KEY = "test-secret-key-" + "x" * 40
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
REPO_BRANDING = PROJECT_ROOT / "branding"  # the themes shipped with the portal
SCREENSHOTS_KEY = pytest.StashKey[Path]()  # the browser tests' screenshot folder, printed at the end


def settings_toml(database_url: str, extra: str = "", *, base_url: str = BASE_URL, theme: str = "default",
                  oidc: bool = True, directory: bool = True) -> str:
    """The test portal's settings file, with `extra` top-level TOML (tables may follow it);
    without the [oidc] or [directory] table for link mode."""
    return f"""
base_url = "{base_url}"
secret_key = "{SECRET_KEY}"
theme = "{theme}"
{extra}
{OIDC_TOML if oidc else ""}
[database]
url = "{database_url}"
{DIRECTORY_TOML if directory else ""}"""


OIDC_TOML = f"""
[oidc]
issuer = "{TEST.issuer}"
client_id = "portal"
client_secret = "portal-dev-secret"
scopes = ["openid", "email", "profile", "groups"]
"""
DIRECTORY_TOML = f"""
[directory]
kind = "openldap"
url = "{TEST.ldap_url}"
allow_plaintext = true
bind_dn = "uid={people.SERVICE.username},{people.SERVICES_OU}"
bind_password = "{people.SERVICE.password}"
base_dn = "{people.PEOPLE_OU}"
"""


def hosts_toml(theme: str = "default", base_url: str = SECOND_URL) -> str:
    """A [hosts] entry serving the portal also on `base_url`'s host name, in `theme`."""
    host = urlsplit(base_url).hostname
    return f'[hosts."{host}"]\ntheme = "{theme}"\nbase_url = "{base_url}"\n'


# The test mail sink as the portal's SMTP server (tables of tests that send mail include it).
MAIL_TOML = f"""[mail]
host = "127.0.0.1"
port = {TEST.smtp}
security = "none"
from_address = "passwords@example.test"
from_name = "Example password portal"
"""


def verified_claims(provider: OidcProvider, id_token: str) -> dict[str, object]:
    """An ID token's claims, its signature checked with the provider's published keys."""
    keys = KeySet.import_key_set(requests.get(str(provider.discovery()["jwks_uri"]), timeout=5).json())
    return jwt.decode(id_token, keys, algorithms=["RS256"]).claims


def inline_scripts(page: str) -> list[str]:
    """The page's <script> tags that carry code rather than load a file the CSP allows ('self')."""
    return re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", page)
