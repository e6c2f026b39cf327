"""Fixed loopback ports of the dev stack: one set for `make demo`, another for the tests.

Two sets let the test suite run while the demo is up. Samba's LDAP ports are hard-coded
(389/636), so each Samba domain controller gets its own loopback address instead.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ports:
    ldap: int          # slapd, ldap://127.0.0.1:<ldap>
    oidc: int          # OpenID Connect provider, http://127.0.0.1:<oidc>
    smtp: int          # aiosmtpd mail sink
    portal: int        # the portal itself (demo server, or the live server of browser tests)
    samba_address: str  # Samba AD DC listens on <samba_address>:389/636

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.portal}"

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.oidc}"

    @property
    def ldap_url(self) -> str:
        return f"ldap://127.0.0.1:{self.ldap}"


DEMO = Ports(ldap=3389, oidc=9000, smtp=2525, portal=5000, samba_address="127.0.0.2")
TEST = Ports(ldap=13389, oidc=19000, smtp=12525, portal=15000, samba_address="127.0.0.3")
