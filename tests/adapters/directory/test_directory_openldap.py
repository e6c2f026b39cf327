"""The OpenLDAP adapter against the real slapd of the dev stack (ppolicy, memberof, StartTLS)."""
from __future__ import annotations

from typing import Any

import ldap3
import pytest

from devstack import people
from devstack.faults import SilencingRelay
from devstack.slapd import MIN_AGE_POLICY_DN, PEOPLE_POLICY_DN, Slapd
from portal.adapters.directory import Directory, PasswordTooSimple, ppolicy
from portal.adapters.directory.openldap import write_error
from portal.settings.directory import DirectorySettings
from tests.adapters.directory.directory_contract import Account, DirectoryContract, fresh_login, strong_password


class OpenLdapBackend:
    kind = "openldap"
    service_login = people.SERVICE.username
    service_base = people.SERVICES_OU
    lockout_threshold = 3

    def __init__(self, server: Slapd) -> None:
        self.server = server
        self.settings = DirectorySettings(
            kind="openldap", url=server.url, start_tls=True, ca_file=str(server.ca_file),
            bind_dn=server.service_dn, bind_password=server.service_password, base_dn=server.people_dn,
            password_policy_dn=PEOPLE_POLICY_DN, alternate_email_attribute="mailLocalAddress",
            timeout_seconds=5)

    def add_person(self, password: str, *, groups: tuple[str, ...] = (), login: str | None = None,
                   cn: str | None = None, **extra: str) -> Account:
        login = login or fresh_login()
        return Account(login, self.server.add_person(login, password, groups=groups, cn=cn, **extra), password)

    def add_min_age_person(self, password: str) -> Account:
        login = fresh_login()
        return Account(login, self.server.add_person(login, password, policy_dn=MIN_AGE_POLICY_DN), password)

    def upstream(self) -> tuple[str, int]:
        return ("127.0.0.1", self.server.port)

    def relayed(self, relay: SilencingRelay) -> dict[str, Any]:
        return {"url": f"ldap://{relay.address}:{relay.port}"}


@pytest.fixture
def backend(slapd: Slapd) -> OpenLdapBackend:
    return OpenLdapBackend(slapd)


class TestOpenLdap(DirectoryContract):
    def test_a_login_with_dn_and_filter_special_characters_works_end_to_end(
            self, backend: OpenLdapBackend, directory: Directory) -> None:
        login = f"o'k,{fresh_login()}+c=d#e\\f(*)"
        person = backend.add_person(strong_password(), login=login)
        assert "\\" in person.dn  # the DN really needed escaping
        user = directory.find_user(login)
        assert user is not None and user.login == login
        assert directory.find_user(login[:-3]) is None  # no prefix match through the "*"
        new = strong_password()
        directory.reset_password(user, new, unlock=False)
        assert backend.server.binds(person.dn, new)
        directory.change_password(user, new, new + "2")
        assert backend.server.binds(person.dn, new + "2")

    def test_groups_come_from_memberof(self, directory: Directory) -> None:
        erin = directory.find_user("erin")
        assert erin is not None
        assert erin.groups == {"staff", "sspr-pilot", "portal-admins"}
        assert erin.in_group("CN=Portal-Admins,OU=Groups,DC=example,DC=test")

    def test_plain_ldap_works_only_when_allowed(self, backend: OpenLdapBackend,
                                               make_directory: Any) -> None:
        directory = make_directory(start_tls=False, allow_plaintext=True)
        assert directory.find_user("alice") is not None

    def test_a_quality_failure_from_slapd_means_too_simple(self, backend: OpenLdapBackend) -> None:
        """Debian's slapd has no password-quality module, so the only way slapd itself says
        "insufficient quality" is a value it cannot check (pre-hashed) under pwdCheckQuality 2.
        The answer is real; the adapter must read it as "too simple"."""
        person = backend.add_person(strong_password())
        conn = ldap3.Connection(ldap3.Server(backend.server.url), backend.server.service_dn,
                                backend.server.service_password, auto_bind=True)
        conn.modify(person.dn, {"userPassword": [(ldap3.MODIFY_REPLACE, ["{SSHA}AAAAAAAAAAAAAAAAAAAAAAAAAAAA"])]},
                    controls=[ppolicy.REQUEST])
        assert ppolicy.from_result(conn.result).error == ppolicy.INSUFFICIENT_QUALITY
        assert isinstance(write_error(dict(conn.result)), PasswordTooSimple)
        conn.unbind()
