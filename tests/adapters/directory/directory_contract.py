"""The behaviour every directory implementation owes the flows, run against REAL servers.

test_directory_openldap.py and test_directory_ad.py beside this file subclass `DirectoryContract` and
provide a `backend` fixture (slapd or Samba AD). Each test makes its own fresh accounts, so tests
do not depend on each other or on order, and none of them ever locks the service account.
"""
from __future__ import annotations

import dataclasses
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from flask import Flask

from devstack.faults import SilencingRelay
from portal.adapters.directory import (
    AccountDisabled,
    AccountLocked,
    Directory,
    DirectoryUnavailable,
    DirectoryUser,
    OutcomeUnknown,
    PasswordInHistory,
    PasswordTooShort,
    PasswordTooYoung,
    ProtectedAccount,
    WrongPassword,
    create_directory,
    dn,
)
from portal.adapters.directory import base as directory_base
from portal.settings.directory import DirectorySettings
from tests.lookalike_names import PAIRS, SHARP_S, Pair, pair_id

LONG_PASSWORD = "Grüße aus Köln, 東京 und Zürich — mit Leerzeichen und 42 Zeichen mehr! ÆØÅ ßẞ"
assert len(LONG_PASSWORD) >= 64


def strong_password() -> str:
    """Meets both test policies (length, AD complexity) and contains no part of a test name."""
    return f"Ok.{uuid.uuid4().hex[:10]}.Pw1!"


def fresh_login() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@dataclasses.dataclass(frozen=True)
class Account:
    login: str
    dn: str
    password: str


class Backend(Protocol):
    """A real directory server and the settings that point the portal at it."""

    kind: str
    settings: DirectorySettings
    service_login: str
    service_base: str             # the subtree holding the portal's own account
    lockout_threshold: int
    server: Any                   # devstack Slapd or SambaDC

    def add_person(self, password: str, *, groups: tuple[str, ...] = (), login: str | None = None,
                   cn: str | None = None, **extra: str) -> Account:
        """A fresh person: `login` (else a fresh one), DN by login or by `cn` when given."""

    def add_min_age_person(self, password: str) -> Account: ...

    def relayed(self, relay: SilencingRelay) -> dict[str, Any]:
        """Settings overrides that send the portal's traffic through this relay."""

    def upstream(self) -> tuple[str, int]: ...


def found(directory: Directory, identifier: str) -> DirectoryUser:
    user = directory.find_user(identifier)
    assert user is not None, identifier
    return user


def portal_environ(settings: DirectorySettings) -> dict[str, str]:
    """PORTAL_DIRECTORY__* variables that point a whole portal at this directory."""
    keys = ("kind", "url", "bind_dn", "bind_password", "base_dn", "start_tls", "allow_plaintext", "ca_file",
            "tls_server_name", "password_policy_dn", "alternate_email_attribute")
    values = {key: getattr(settings, key) for key in keys}
    return {f"PORTAL_DIRECTORY__{key.upper()}": str(value).lower() if isinstance(value, bool) else value
            for key, value in values.items()}


def other_ca(folder: Path) -> str:
    """A CA that signed nothing the servers present."""
    key, cert = folder / "other.key", folder / "other-ca.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-subj", "/CN=Someone else", "-days", "1",
                    "-out", str(cert)], check=True, capture_output=True)
    return str(cert)


class DirectoryContract:
    """Shared tests; subclasses named Test* are collected, this base is not."""

    @pytest.fixture
    def make_directory(self, backend: Backend) -> Iterator[Callable[..., Directory]]:
        made: list[Directory] = []

        def build(**overrides: Any) -> Directory:
            directory = create_directory(dataclasses.replace(backend.settings, **overrides))
            made.append(directory)
            return directory
        yield build
        for directory in made:
            directory.close()

    @pytest.fixture
    def directory(self, make_directory: Callable[..., Directory]) -> Directory:
        return make_directory()

    @pytest.fixture
    def account(self, backend: Backend) -> Account:
        return backend.add_person(strong_password(), mobile="+15555550199")

    # -- finding people ----------------------------------------------------------------------

    def test_finds_a_person_by_login_or_email_with_mapped_attributes(
            self, backend: Backend, directory: Directory, make_directory: Callable[..., Directory]) -> None:
        person = backend.add_person(strong_password(), groups=("staff",), mobile="+15555550123")
        by_login = directory.find_user(person.login)
        by_email = directory.find_user(f"{person.login}@example.test")
        assert by_login is not None and by_email is not None
        assert by_login.directory_id == by_email.directory_id
        assert by_login.login == person.login
        assert by_login.display_name == f"Test User {person.login}"
        assert by_login.email == f"{person.login}@example.test"
        assert by_login.mobile == "+15555550123"
        assert by_login.in_group("staff") and not by_login.in_group("portal-admins")
        assert not by_login.protected and by_login.state.usable
        with_extra = found(make_directory(extra_attributes=["sn", "givenName"]), person.login)
        assert with_extra.attributes == {"sn": (f"User {person.login}",), "givenName": ("Test",)}

    def test_reads_the_preferred_language_of_the_entry(self, backend: Backend, directory: Directory,
                                                       make_directory: Callable[..., Directory]) -> None:
        """inetOrgPerson and AD both have preferredLanguage; mail falls back on it (services/messaging/languages.py)."""
        person = backend.add_person(strong_password(), preferredLanguage="de-CH, fr;q=0.5")
        assert found(directory, person.login).preferred_language == "de-CH, fr;q=0.5"
        assert found(directory, backend.add_person(strong_password()).login).preferred_language is None
        assert found(make_directory(language_attribute=""), person.login).preferred_language is None

    def test_finds_a_demo_person_by_alternate_email(self, directory: Directory) -> None:
        alice = directory.find_user("alice.private@mail.example")
        assert alice is not None and alice.login == "alice"
        assert alice.alternate_emails == ("alice.private@mail.example",)

    @pytest.mark.parametrize("attempt", ["*", "t*", "*)(uid=*", "*)(sAMAccountName=*", "*)(|(mail=*",
                                         "alice)(objectClass=*", "\\2a", "alice\x00", "\x00", "",
                                         " alice", "alice ", "x" * 300])
    def test_filter_injection_and_junk_find_nobody(self, directory: Directory, attempt: str) -> None:
        assert directory.find_user(attempt) is None

    def test_an_identifier_matching_two_accounts_finds_nobody(self, backend: Backend,
                                                             directory: Directory) -> None:
        first = backend.add_person(strong_password())
        backend.add_person(strong_password(), mail=f"{first.login}@example.test")
        assert directory.find_user(f"{first.login}@example.test") is None
        assert directory.find_user(first.login) is not None

    # -- names that look alike or fold together (tests/lookalike_names.py) ---------------------

    @pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
    def test_two_look_alike_accounts_never_find_each_other(self, backend: Backend, directory: Directory,
                                                          pair: Pair) -> None:
        """Each finds its own entry where the directory tells the names apart; where it holds them
        as one name, two entries carry it and neither is found (ambiguous). Never the other one."""
        accounts = [backend.add_person(strong_password(), login=name, cn=fresh_login()) for name in pair.names()]
        for account in accounts:
            for lookup in (directory.find_user, directory.user_by_login):
                user = lookup(account.login)
                if pair.one_name(backend.kind):
                    assert user is None, (lookup.__name__, account.login)
                else:
                    assert user is not None and dn.same(user.dn, account.dn), (lookup.__name__, account.login)

    @pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
    def test_a_look_alike_of_an_existing_name_is_what_the_directory_makes_of_it(
            self, backend: Backend, make_directory: Callable[..., Directory], pair: Pair) -> None:
        look_alike, name = pair.names()
        existing = backend.add_person(strong_password(), login=name)
        directory = make_directory(protected_accounts=[look_alike])
        one_name = pair.one_name(backend.kind)
        # A typed name means what the directory's own matching says, whatever a fold of ours says.
        typed = directory.find_user(look_alike)
        assert (typed is not None and dn.same(typed.dn, existing.dn)) if one_name else typed is None
        # A name another system vouches for must be the entry's own, case aside.
        vouched = directory.user_by_login(look_alike)
        assert (vouched is not None) is (one_name and pair.case_variants)
        # The deny list names accounts the directory's way too.
        assert found(directory, name).protected is one_name

    def test_a_vouched_for_name_is_an_own_name_of_the_entry_case_aside(self, backend: Backend,
                                                                       directory: Directory) -> None:
        alternate = f"{fresh_login()}.home@mail.example"
        person = backend.add_person(strong_password(), **{backend.settings.alternate_email_attribute: alternate})
        for name in (person.login, person.login.upper(), f"{person.login}@example.test"):
            user = directory.user_by_login(name)
            assert user is not None and dn.same(user.dn, person.dn), name
        assert directory.find_user(alternate) is not None
        assert directory.user_by_login(alternate) is None  # an address the person chose

    def test_everyone_is_listed_once_and_look_alikes_apart(self, backend: Backend,
                                                           make_directory: Callable[..., Directory]) -> None:
        accounts = [backend.add_person(strong_password(), login=name) for name in SHARP_S.names()]
        # the same base twice: every entry comes back twice and must still be one account
        directory = make_directory(extra_base_dns=[backend.settings.base_dn])
        listed = [u for u in directory.people() if any(dn.same(u.dn, a.dn) for a in accounts)]
        assert sorted(u.login for u in listed) == sorted(a.login for a in accounts)
        for account in accounts:
            user = found(directory, account.login)
            assert dn.same(user.dn, account.dn)

    def test_everyone_streams_a_page_at_a_time_and_an_early_stop_frees_the_connection(
            self, backend: Backend, make_directory: Callable[..., Directory], monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(directory_base, "PAGE_SIZE", 2)  # several pages from a handful of people
        accounts = [backend.add_person(strong_password()) for _ in range(5)]
        directory = make_directory(pool_size=1)
        stream = directory.people()
        assert not isinstance(stream, (list, tuple))
        listed = [u.login for u in stream if any(dn.same(u.dn, a.dn) for a in accounts)]
        assert sorted(listed) == sorted(a.login for a in accounts)
        for _ in range(3):  # one pooled connection: a leaked one would make the next read wait, then fail
            stream = directory.people()
            next(stream)
            stream.close()
        assert dn.same(found(directory, accounts[0].login).dn, accounts[0].dn)

    def test_reads_an_account_again_by_its_directory_id(self, directory: Directory, account: Account) -> None:
        user = found(directory, account.login)
        again = directory.user_by_id(user.directory_id)
        assert again is not None and again.dn == user.dn
        assert directory.user_by_id(str(uuid.uuid4())) is None
        assert directory.user_by_id("not-a-uuid)(uid=*") is None

    def test_reads_the_password_policy(self, backend: Backend, directory: Directory, account: Account) -> None:
        policy = directory.password_policy(directory.find_user(account.login))
        assert policy.min_length == 8 and policy.history == 3
        assert policy.lockout_threshold == backend.lockout_threshold
        assert policy.max_age_seconds == 90 * 24 * 3600

    # -- binding -----------------------------------------------------------------------------

    def test_verifies_a_password_by_binding(self, directory: Directory, account: Account) -> None:
        user = found(directory, account.login)
        directory.verify_password(user, account.password)
        with pytest.raises(WrongPassword):
            directory.verify_password(user, account.password + "x")

    def test_an_empty_password_never_reaches_a_bind(self, backend: Backend, directory: Directory,
                                                   account: Account) -> None:
        user = found(directory, account.login)
        for _ in range(backend.lockout_threshold + 2):
            with pytest.raises(WrongPassword):
                directory.verify_password(user, "")
            with pytest.raises(WrongPassword):
                directory.change_password(user, "", strong_password())
        # Had any of those been a bind, the account would count failures (or be locked) now.
        current = directory.find_user(account.login)
        assert current is not None and not current.state.locked
        directory.verify_password(current, account.password)

    # -- reset and change --------------------------------------------------------------------

    def test_reset_sets_a_password_that_really_binds(self, backend: Backend, directory: Directory,
                                                     account: Account) -> None:
        user = found(directory, account.login)
        new = strong_password()
        directory.reset_password(user, new, unlock=False)
        assert backend.server.binds(account.dn, new)
        assert not backend.server.binds(account.dn, account.password)

    def test_change_with_the_current_password(self, backend: Backend, directory: Directory,
                                              account: Account) -> None:
        user = found(directory, account.login)
        new = strong_password()
        directory.change_password(user, account.password, new)
        assert backend.server.binds(account.dn, new)

    def test_change_with_a_wrong_current_password_changes_nothing(
            self, backend: Backend, directory: Directory, account: Account) -> None:
        user = found(directory, account.login)
        with pytest.raises(WrongPassword):
            directory.change_password(user, "Not.The.Current.1!", strong_password())
        assert backend.server.binds(account.dn, account.password)

    def test_a_long_password_with_spaces_and_non_ascii_works_for_a_real_bind(
            self, backend: Backend, directory: Directory, account: Account) -> None:
        user = found(directory, account.login)
        directory.reset_password(user, LONG_PASSWORD, unlock=False)
        assert backend.server.binds(account.dn, LONG_PASSWORD)
        directory.verify_password(user, LONG_PASSWORD)
        changed = f" {LONG_PASSWORD} 2 "  # leading and trailing spaces are part of it
        directory.change_password(user, LONG_PASSWORD, changed)
        assert backend.server.binds(account.dn, changed)
        assert not backend.server.binds(account.dn, changed.strip())  # nothing trimmed

    # -- the directory's password policy -----------------------------------------------------

    def test_a_too_short_password_is_refused_on_reset_and_change(
            self, backend: Backend, directory: Directory, account: Account) -> None:
        user = found(directory, account.login)
        with pytest.raises(PasswordTooShort) as refused:
            directory.reset_password(user, "Ab1!x", unlock=False)
        with pytest.raises(PasswordTooShort):
            directory.change_password(user, account.password, "Ab1!x")
        assert backend.server.binds(account.dn, account.password)
        # The user reads a sentence; the server's own words are kept for the log only.
        message = str(refused.value.message)
        assert "too short" in message and "19" not in message and "onstraint" not in message
        assert "19" in refused.value.detail

    def test_a_recently_used_password_is_refused(self, backend: Backend, directory: Directory,
                                                 account: Account) -> None:
        user = found(directory, account.login)
        second = strong_password()
        directory.change_password(user, account.password, second)
        with pytest.raises(PasswordInHistory):
            directory.change_password(user, second, account.password)
        assert backend.server.binds(account.dn, second)

    def test_a_password_changed_too_recently_cannot_be_changed_again(
            self, backend: Backend, directory: Directory) -> None:
        person = backend.add_min_age_person(strong_password())
        user = found(directory, person.login)
        with pytest.raises(PasswordTooYoung):
            directory.change_password(user, person.password, strong_password())
        assert backend.server.binds(person.dn, person.password)

    # -- lockout and disabled accounts -------------------------------------------------------

    def _lock_by_failures(self, backend: Backend, directory: Directory, account: Account) -> None:
        user = found(directory, account.login)
        for _ in range(backend.lockout_threshold):
            with pytest.raises(WrongPassword):
                directory.verify_password(user, "Wrong.Password.1!")

    def test_failed_binds_lock_the_account_and_unlock_frees_it(
            self, backend: Backend, directory: Directory, account: Account) -> None:
        self._lock_by_failures(backend, directory, account)
        locked = directory.find_user(account.login)
        assert locked is not None and locked.state.locked and not locked.state.usable
        with pytest.raises(AccountLocked):
            directory.verify_password(locked, account.password)  # even the right password
        directory.unlock(locked)
        unlocked = directory.find_user(account.login)
        assert unlocked is not None and not unlocked.state.locked
        directory.verify_password(unlocked, account.password)

    def test_a_reset_can_unlock_at_the_same_time(self, backend: Backend, directory: Directory,
                                                 account: Account) -> None:
        self._lock_by_failures(backend, directory, account)
        locked = directory.find_user(account.login)
        assert locked is not None and locked.state.locked
        new = strong_password()
        directory.reset_password(locked, new, unlock=True)
        after = directory.find_user(account.login)
        assert after is not None and not after.state.locked
        directory.verify_password(after, new)

    def test_a_disabled_account_is_reported_and_never_changed(
            self, backend: Backend, directory: Directory, account: Account) -> None:
        backend.server.disable(account.dn)
        user = directory.find_user(account.login)
        assert user is not None and user.state.disabled and not user.state.locked
        with pytest.raises(AccountDisabled):
            directory.verify_password(user, account.password)
        with pytest.raises(AccountDisabled):
            directory.reset_password(user, strong_password(), unlock=True)
        with pytest.raises(AccountDisabled):
            directory.unlock(user)
        assert found(directory, account.login).state.disabled

    # -- the deny list -----------------------------------------------------------------------

    def test_the_service_account_is_never_changed(self, backend: Backend,
                                                  make_directory: Callable[..., Directory]) -> None:
        # Even with a filter and a base that let it be found (it is not a person on OpenLDAP).
        directory = make_directory(extra_base_dns=[backend.service_base], user_filter="(objectClass=*)")
        service = directory.find_user(backend.service_login)
        assert service is not None and service.protected
        with pytest.raises(ProtectedAccount):
            directory.reset_password(service, strong_password(), unlock=True)
        with pytest.raises(ProtectedAccount):
            directory.change_password(service, backend.settings.bind_password, strong_password())
        with pytest.raises(ProtectedAccount):
            directory.unlock(service)
        directory.ping()  # and it still works

    def test_accounts_and_groups_on_the_deny_list_are_protected(
            self, backend: Backend, make_directory: Callable[..., Directory]) -> None:
        named = backend.add_person(strong_password())
        member = backend.add_person(strong_password(), groups=("portal-admins",))
        ordinary = backend.add_person(strong_password(), groups=("staff",))
        directory = make_directory(protected_accounts=[named.login], protected_groups=["portal-admins"])
        assert found(directory, named.login).protected
        protected_member = directory.find_user(member.login)
        assert protected_member is not None and protected_member.protected
        assert not found(directory, ordinary.login).protected
        with pytest.raises(ProtectedAccount):
            directory.reset_password(protected_member, strong_password(), unlock=False)
        assert backend.server.binds(member.dn, member.password)

    # -- TLS ---------------------------------------------------------------------------------

    def test_a_certificate_from_another_authority_is_refused(
            self, make_directory: Callable[..., Directory], tmp_path: Path) -> None:
        directory = make_directory(ca_file=other_ca(tmp_path))
        with pytest.raises(DirectoryUnavailable):
            directory.find_user("alice")

    def test_a_certificate_for_another_name_is_refused(self, backend: Backend,
                                                      make_directory: Callable[..., Directory]) -> None:
        # Reached at an address the certificate does not name (through a plain TCP relay).
        with SilencingRelay(backend.upstream(), address="127.0.99.1") as relay:
            directory = make_directory(**backend.relayed(relay), tls_server_name="somewhere-else.example.test")
            with pytest.raises(DirectoryUnavailable):
                directory.find_user("alice")

    # -- the portal around it ----------------------------------------------------------------

    def test_readiness_includes_the_directory(self, backend: Backend, make_app: Callable[..., Flask]) -> None:
        client = make_app(environ=portal_environ(backend.settings)).test_client()
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json["checks"]["directory"] == "ok"
        with backend.server.stopped():
            down = client.get("/readyz")
        assert down.status_code == 503 and down.json["checks"]["directory"] == "failed"
        assert client.get("/readyz").json["checks"]["directory"] == "ok"  # pool recovered

    def test_directory_check_reports_every_step_and_the_rights(
            self, backend: Backend, make_app: Callable[..., Flask]) -> None:
        test_account = backend.add_person(strong_password())
        runner = make_app(environ=portal_environ(backend.settings)).test_cli_runner()
        result = runner.invoke(args=["directory", "check", "--test-account", test_account.login])
        assert result.exit_code == 0, result.output
        for step in ("reachability", "TLS", "bind", "search base", "password policy",
                     "reset permission", "unlock permission"):
            assert f"ok      {step}: " in result.output, step
        assert not backend.server.binds(test_account.dn, test_account.password)  # really reset

    def test_directory_check_fails_on_a_wrong_service_password(
            self, backend: Backend, make_app: Callable[..., Flask]) -> None:
        environ = portal_environ(backend.settings) | {"PORTAL_DIRECTORY__BIND_PASSWORD": "Wrong.Secret.1!"}
        result = make_app(environ=environ).test_cli_runner().invoke(args=["directory", "check"])
        assert result.exit_code == 1
        assert "ok      TLS: " in result.output and "FAILED  bind: " in result.output
        assert "Wrong.Secret" not in result.output

    def test_directory_check_fails_when_nothing_answers(self, backend: Backend,
                                                        make_app: Callable[..., Flask]) -> None:
        runner = make_app(environ=portal_environ(backend.settings)).test_cli_runner()
        with backend.server.stopped():
            result = runner.invoke(args=["directory", "check"])
        assert result.exit_code == 1 and "FAILED  reachability: " in result.output

    # -- the directory going away ------------------------------------------------------------

    def test_a_stopped_directory_is_unavailable_and_nothing_changes(
            self, backend: Backend, directory: Directory, account: Account) -> None:
        user = found(directory, account.login)
        directory.ping()
        with backend.server.stopped():
            for attempt in (lambda: directory.reset_password(user, strong_password(), unlock=True),
                            lambda: directory.change_password(user, account.password, strong_password()),
                            lambda: directory.verify_password(user, account.password),
                            lambda: directory.find_user(account.login), directory.ping):
                with pytest.raises(DirectoryUnavailable) as error:
                    attempt()
                assert "Nothing was changed" in str(error.value.message)
        assert backend.server.binds(account.dn, account.password)
        # The same adapter (and its pooled connections) works again after the restart.
        new = strong_password()
        directory.reset_password(found(directory, account.login), new, unlock=False)
        assert backend.server.binds(account.dn, new)

    def test_a_lost_answer_to_a_write_is_an_unknown_outcome(
            self, backend: Backend, make_directory: Callable[..., Directory]) -> None:
        with SilencingRelay(backend.upstream()) as relay:
            # 2 s: the timeout is also the searches' server-side time limit, and a loaded Samba
            # has answered a search after more than 1 s (timeLimitExceeded before any write)
            relayed = backend.relayed(relay) | {"timeout_seconds": 2}

            def requests_of_a_reset(directory: Directory, account: Account) -> int:
                user = found(directory, account.login)
                before = relay.requests
                directory.reset_password(user, strong_password(), unlock=False)
                return relay.requests - before

            # Learn how many requests a reset sends (the last one is the write)...
            count = requests_of_a_reset(make_directory(**relayed), backend.add_person(strong_password()))
            # ...then let the same reset's write reach the server while its answer is lost.
            victim = backend.add_person(strong_password())
            directory = make_directory(**relayed)
            user = found(directory, victim.login)
            relay.silence_from_request(relay.requests + count)
            new = strong_password()
            with pytest.raises(OutcomeUnknown) as error:
                directory.reset_password(user, new, unlock=False)
            assert "could not confirm" in str(error.value.message)
        assert backend.server.binds(victim.dn, new)  # it did land: "success" would have been luck
