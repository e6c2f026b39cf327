"""Start the dev stack's OpenID Connect provider and sign people in at it with `requests`.

The provider itself is `devstack/oidc/provider.mjs` (npm `oidc-provider`); its users are the
directory's people, checked by an LDAP bind with their real password. The directory is OpenLDAP
(slapd, the tests' and `make demo`'s) or Active Directory (Samba's DC, `make demo DIRECTORY=ad`):
an `AccountSource` says which, where, and how to trust its certificate. This module writes the
provider's configuration, babysits the node process, and gives tests the two things they keep
needing: a scripted sign-in that stops at the redirect back to the client, and a whole code + PKCE
flow that yields real tokens for any registered client (a token for another audience is a real one).
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from devstack.people import BASE_DN, SERVICE, SERVICES_OU
from devstack.ports import DEMO, TEST
from devstack.process import ManagedProcess, ServerFailed
from devstack.samba import SambaDC

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
SERVICE_DN = f"uid={SERVICE.username},{SERVICES_OU}"
# Each host the portal serves has its own callback and post-logout address (README, "Branding").
REDIRECT_URIS = tuple(f"{url}/auth/callback" for ports in (DEMO, TEST) for url in ports.portal_urls)
POST_LOGOUT_REDIRECT_URIS = tuple(f"{url}/" for ports in (DEMO, TEST) for url in ports.portal_urls)


@dataclass(frozen=True)
class OidcClient:
    """A confidential client registered at the dev provider."""

    client_id: str
    client_secret: str
    name: str

    def metadata(self) -> dict[str, object]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "client_name": self.name,
            "redirect_uris": list(REDIRECT_URIS),
            "post_logout_redirect_uris": list(POST_LOGOUT_REDIRECT_URIS),
            "token_endpoint_auth_method": "client_secret_basic",
        }


PORTAL_CLIENT = OidcClient("portal", "portal-dev-secret", "Password portal")
# Another relying party of the same provider: its ID tokens are genuine but not meant for the portal.
OTHER_CLIENT = OidcClient("other-app", "other-app-secret", "Another application")
CLIENTS = (PORTAL_CLIENT, OTHER_CLIENT)


@dataclass(frozen=True)
class AccountSource:
    """The directory the provider reads people from, with a read-only account to search it.

    `kind` picks the schema provider.mjs speaks: "openldap" (uid, inetOrgPerson, entryUUID) or
    "active_directory" (sAMAccountName, user objects, objectGUID, nested groups). `ca_file` and
    `tls_name` are for ldaps:// (a Samba DC's certificate names only DC1.<realm>).
    """

    kind: str
    url: str
    base_dn: str
    bind_dn: str
    bind_password: str
    ca_file: Path | None = None
    tls_name: str | None = None

    def config(self) -> dict[str, object]:
        return {"kind": self.kind, "url": self.url, "baseDn": self.base_dn, "bindDn": self.bind_dn,
                "bindPassword": self.bind_password,
                "caFile": str(self.ca_file.resolve()) if self.ca_file else None, "tlsName": self.tls_name}


def openldap_accounts(url: str) -> AccountSource:
    """The dev stack's slapd at `url`, searched as the portal's service account."""
    return AccountSource("openldap", url, BASE_DN, SERVICE_DN, SERVICE.password)


def active_directory_accounts(dc: SambaDC) -> AccountSource:
    """A Samba AD DC over LDAPS with its own CA, searched as the portal's service account."""
    return AccountSource("active_directory", dc.url, dc.base_dn, dc.service_dn, dc.service_password,
                         dc.ca_file, dc.tls_name)


class SignInRejected(RuntimeError):
    """The provider did not send the browser back to the client (wrong password, error page...)."""

    def __init__(self, message: str, response: requests.Response) -> None:
        super().__init__(f"{message} (HTTP {response.status_code} at {response.url})")
        self.response = response


class OidcProvider:
    """The npm `oidc-provider` on http://127.0.0.1:<issuer_port>, backed by a directory."""

    def __init__(self, issuer_port: int, workdir: Path, accounts: AccountSource,
                 keys_file: Path | None = None) -> None:
        self.port = issuer_port
        self.issuer = f"http://127.0.0.1:{issuer_port}"
        self.workdir = workdir
        self.accounts = accounts
        # Shared keys let a second provider (another issuer) sign with the same key and kid.
        self.keys_file = keys_file or workdir / "keys.json"
        self.config_file = workdir / "config.json"
        self.ready_file = workdir / "ready.pid"
        self.process: ManagedProcess | None = None

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def discovery(self) -> dict[str, object]:
        response = requests.get(self.discovery_url, timeout=5)
        response.raise_for_status()
        return response.json()

    def _write_config(self) -> None:
        config = {
            "issuer": self.issuer,
            "port": self.port,
            "ldap": self.accounts.config(),
            "clients": [client.metadata() for client in CLIENTS],
            "keysFile": str(self.keys_file.resolve()),
            "readyFile": str(self.ready_file.resolve()),
        }
        self.config_file.write_text(json.dumps(config, indent=2))
        self.config_file.chmod(0o600)

    def _ready(self) -> bool:
        """Ready when OUR node wrote its pid file and the discovery document answers."""
        assert self.process is not None and self.process.process is not None
        if not self.ready_file.exists() or self.ready_file.read_text() != str(self.process.process.pid):
            return False
        return self.discovery()["issuer"] == self.issuer

    def start(self) -> None:
        node = node_binary()
        if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            raise ServerFailed("node or devstack/oidc/node_modules is missing: run `make install`")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ready_file.unlink(missing_ok=True)
        self._write_config()
        self.process = ManagedProcess(
            f"oidc-provider {self.issuer}", [node, str(OIDC_DIR / "provider.mjs"), str(self.config_file)],
            self.workdir / "provider.log", self._ready, cwd=OIDC_DIR, env={"NODE_ENV": "development"})
        self.process.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> "OidcProvider":
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def node_binary() -> str | None:
    """The Node.js that package.json brings from the npm registry (Debian 12's own is too old for
    oidc-provider 9), else whatever `node` is on the PATH."""
    bundled = OIDC_DIR / "node_modules" / ".bin" / "node"
    return str(bundled) if bundled.exists() else shutil.which("node")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


_FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


def sign_in(session: requests.Session, authorize_url: str, username: str, password: str) -> str:
    """Follow the provider's pages from `authorize_url`, submit the login form once, and return
    the redirect back to the client (callback URL with code and state) without following it.

    Raises SignInRejected when the provider answers anything else, e.g. the form again after a
    wrong password: a test can then inspect `error.response`.
    """
    provider_origin = _origin(authorize_url)
    response = session.get(authorize_url, allow_redirects=False, timeout=10)
    submitted = False
    for _ in range(10):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if _origin(target) != provider_origin:
                return target
            response = session.get(target, allow_redirects=False, timeout=10)
            continue
        form = _FORM_ACTION.search(response.text)
        if response.status_code != 200 or form is None or submitted:
            raise SignInRejected("the provider did not redirect back to the client", response)
        response = session.post(urljoin(response.url, form.group(1)), allow_redirects=False,
                                data={"login": username, "password": password}, timeout=10)
        submitted = True
    raise SignInRejected("too many redirects at the provider", response)


def pkce_pair() -> tuple[str, str]:
    """A fresh (code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def obtain_tokens(provider: OidcProvider, client_id: str, client_secret: str, redirect_uri: str,
                  username: str, password: str, nonce: str) -> dict[str, object]:
    """A whole authorization code + PKCE flow as `client_id`; returns the token response."""
    metadata = provider.discovery()
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    query = urlencode({
        "client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
        "scope": "openid email profile groups", "state": state, "nonce": nonce,
        "code_challenge": challenge, "code_challenge_method": "S256",
    })
    with requests.Session() as browser:
        callback = sign_in(browser, f"{metadata['authorization_endpoint']}?{query}", username, password)
    params = parse_qs(urlsplit(callback).query)
    if params.get("state") != [state] or "code" not in params:
        raise RuntimeError(f"unexpected callback from the provider: {callback}")
    response = requests.post(
        str(metadata["token_endpoint"]), auth=(client_id, client_secret), timeout=10,
        data={"grant_type": "authorization_code", "code": params["code"][0],
              "redirect_uri": redirect_uri, "code_verifier": verifier})
    response.raise_for_status()
    return response.json()
