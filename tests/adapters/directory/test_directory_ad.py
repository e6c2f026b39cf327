"""The Active Directory adapter against a real Samba AD domain controller (LDAPS, delegated rights).

What only Windows AD could confirm is noted where Samba differs: the policy hints control, the
WhoAmI operation (Samba has none: the bound identity is confirmed through the token's SIDs) and
the exact texts of its messages (the adapter reads codes, never texts).
"""
from __future__ import annotations

from typing import Any

import pytest

from devstack import people
from devstack.faults import SilencingRelay
from devstack.samba import BASE_DN, MIN_AGE_GROUP, NESTED_GROUP, SERVICES_OU, SambaDC
from portal.adapters.directory import (
    Directory,
    DirectoryError,
    DirectoryUnavailable,
    PasswordExpired,
    PasswordTooSimple,
    ProtectedAccount,
)
from portal.settings.directory import DirectorySettings
from tests.adapters.directory.directory_contract import Account, DirectoryContract, fresh_login, strong_password

DOMAIN_ADMINS = f"CN=Domain Admins,CN=Users,{BASE_DN}"


class SambaBackend:
    kind = "active_directory"
    service_login = people.SERVICE.username
    service_base = SERVICES_OU
    lockout_threshold = 3

    def __init__(self, server: SambaDC) -> None:
        self.server = server
        self.settings = DirectorySettings(
            kind="active_directory", url=server.url, ca_file=str(server.ca_file),
            tls_server_name=server.tls_name, bind_dn=server.service_dn,
            bind_password=server.service_password, base_dn=server.people_dn,
            alternate_email_attribute="otherMailbox", timeout_seconds=5)

    def add_person(self, password: str, *, groups: tuple[str, ...] = (), login: str | None = None,
                   cn: str | None = None, **extra: str) -> Account:
        login = login or fresh_login()
        return Account(login, self.server.add_person(login, password, groups=groups, cn=cn, **extra), password)

    def add_min_age_person(self, password: str) -> Account:
        return self.add_person(password, groups=(MIN_AGE_GROUP,))

    def upstream(self) -> tuple[str, int]:
        return (self.server.address, 636)

    def relayed(self, relay: SilencingRelay) -> dict[str, Any]:
        return {"url": f"ldaps://{relay.address}:{relay.port}"}


@pytest.fixture
def backend(samba: SambaDC) -> SambaBackend:
    return SambaBackend(samba)


class TestActiveDirectory(DirectoryContract):
    def test_group_membership_is_nested(self, backend: SambaBackend, directory: Directory) -> None:
        erin = directory.find_user("erin")  # in portal-admins only through it-admins (devstack/samba.py)
        assert erin is not None and erin.in_group("portal-admins") and erin.in_group(NESTED_GROUP)
        inner, outer = f"g{fresh_login()}", f"g{fresh_login()}"
        person = backend.add_person(strong_password())
        backend.server.add_group(inner, (person.dn,))
        backend.server.add_group(outer, (backend.server.group_dn(inner),))
        user = directory.find_user(person.login)
        assert user is not None and user.in_group(outer) and user.in_group(backend.server.group_dn(outer))

    def test_members_of_a_protected_group_are_protected_through_nesting(
            self, backend: SambaBackend, make_directory: Any) -> None:
        inner, outer = f"g{fresh_login()}", f"g{fresh_login()}"
        person = backend.add_person(strong_password())
        backend.server.add_group(inner, (person.dn,))
        backend.server.add_group(outer, (backend.server.group_dn(inner),))
        directory = make_directory(protected_groups=[outer])
        user = directory.find_user(person.login)
        assert user is not None and user.protected
        with pytest.raises(ProtectedAccount):
            directory.reset_password(user, strong_password(), unlock=True)

    def test_privileged_accounts_are_always_protected(self, backend: SambaBackend, make_directory: Any) -> None:
        admin = backend.add_person(strong_password())
        backend.server.add_member_dn(DOMAIN_ADMINS, admin.dn)
        directory = make_directory(extra_base_dns=[f"CN=Users,{BASE_DN}"])
        found = directory.find_user(admin.login)
        assert found is not None and found.protected
        with pytest.raises(ProtectedAccount):
            directory.reset_password(found, strong_password(), unlock=False)
        assert backend.server.binds(admin.dn, admin.password)
        for builtin in ("Administrator", "krbtgt", "Guest"):
            account = directory.find_user(builtin)
            assert account is not None and account.protected, builtin

    def test_a_password_without_enough_kinds_of_characters_is_too_simple(
            self, backend: SambaBackend, directory: Directory, account: Account) -> None:
        user = directory.find_user(account.login)
        assert user is not None
        with pytest.raises(PasswordTooSimple):
            directory.reset_password(user, "onlylowercaseletters", unlock=False)
        with pytest.raises(PasswordTooSimple):
            directory.change_password(user, account.password, "onlylowercaseletters")
        assert backend.server.binds(account.dn, account.password)

    def test_a_password_that_must_be_changed_can_still_be_changed(
            self, backend: SambaBackend, directory: Directory, account: Account) -> None:
        backend.server.require_change(account.dn)
        user = directory.find_user(account.login)
        assert user is not None and user.state.must_change_password and user.state.password_expired
        with pytest.raises(PasswordExpired):
            directory.verify_password(user, account.password)
        new = strong_password()
        directory.change_password(user, account.password, new)
        assert backend.server.binds(account.dn, new)

    def test_policy_hints_are_refused_by_samba_and_nothing_changes(
            self, backend: SambaBackend, make_directory: Any, account: Account) -> None:
        """Windows Server 2012+ honours LDAP_SERVER_POLICY_HINTS; Samba 4.17 answers 12."""
        directory = make_directory(ad_policy_hints=True)
        user = directory.find_user(account.login)
        assert user is not None
        with pytest.raises(DirectoryError) as error:
            directory.reset_password(user, strong_password(), unlock=False)
        assert "unavailableCriticalExtension" in error.value.detail
        assert backend.server.binds(account.dn, account.password)

    def test_a_name_with_dn_special_characters_works_end_to_end(
            self, backend: SambaBackend, directory: Directory) -> None:
        cn = f"Smith, Jo+Ann = #1 \\ {fresh_login()}"
        person = backend.add_person(strong_password(), cn=cn)
        user = directory.find_user(person.login)
        assert user is not None and user.dn.startswith("CN=Smith\\, Jo\\+Ann")
        new = strong_password()
        directory.reset_password(user, new, unlock=False)
        assert backend.server.binds(person.dn, new)
        directory.change_password(user, new, new + "2")
        assert backend.server.binds(person.dn, new + "2")

    def test_plain_ldap_is_refused_by_the_domain_controller(self, backend: SambaBackend,
                                                            make_directory: Any) -> None:
        directory = make_directory(url=f"ldap://{backend.server.address}", allow_plaintext=True)
        with pytest.raises(DirectoryUnavailable) as error:
            directory.find_user("alice")
        assert "strongerAuthRequired" in error.value.detail

    def test_start_tls_works_too(self, backend: SambaBackend, make_directory: Any) -> None:
        directory = make_directory(url=f"ldap://{backend.server.address}", start_tls=True)
        assert directory.find_user("alice") is not None
