"""`flask --app wsgi directory check`: what works and what is missing, one line per step.

IT runs it before rollout to prove the service account can do its job: reach the server, secure
the connection with a certificate that checks out, bind, read the search bases and the password
policy, and (given a test account) actually reset and unlock it. Each step stops the later ones
that depend on it, so the first FAILED line is the one to fix.
"""
from __future__ import annotations

import secrets
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import ldap3

from ...settings.directory import DirectorySettings
from .active_directory import POLICY_HINTS
from .base import LdapDirectory
from .connection import LDAP3_ERRORS, bind, close, domain_error
from .errors import DirectoryError
from .interface import Directory

OK, WARNING, FAILED = "ok", "warning", "FAILED"


@dataclass(frozen=True)
class Line:
    status: str
    step: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<8}{self.step}: {self.detail}"


def run(directory: Directory, test_account: str | None = None) -> Iterator[Line]:
    assert isinstance(directory, LdapDirectory)  # both implementations are
    settings = directory.settings
    endpoint = directory.endpoint
    server = endpoint.server()
    try:
        socket.create_connection((server.host, server.port), timeout=settings.timeout_seconds).close()
    except OSError as error:
        yield Line(FAILED, "reachability", f"{server.host}:{server.port} does not answer ({error})")
        return
    yield Line(OK, "reachability", f"{server.host}:{server.port} answers")

    try:
        conn = endpoint.open(settings.bind_dn, settings.bind_password)
    except DirectoryError as error:
        yield Line(FAILED, "TLS", f"{error.detail} (check ca_file and tls_server_name)")
        return
    yield _tls_line(settings)

    try:
        bound = bind(conn)
    except DirectoryError as error:
        yield Line(FAILED, "bind", error.detail)
        return
    if not bound:
        yield Line(FAILED, "bind", f"{settings.bind_dn} refused: {conn.result.get('description')} "
                                   f"{conn.result.get('message')}")
        close(conn)
        return
    yield Line(OK, "bind", f"as {settings.bind_dn}")

    try:
        yield from _bases(directory, conn)
        if directory.kind == "active_directory":
            yield _policy_hints(directory, conn)
    except LDAP3_ERRORS as error:
        yield Line(FAILED, "search", domain_error(error, "search").detail)
        return
    finally:
        close(conn)
    yield from _policy(directory)
    if test_account:
        yield from _test_account(directory, test_account)


def _tls_line(settings: DirectorySettings) -> Line:
    if settings.url.startswith("ldaps://") or settings.start_tls:
        how = "LDAPS" if settings.url.startswith("ldaps://") else "StartTLS"
        trust = settings.ca_file or "the system's CA store"
        name = f", name {settings.tls_server_name}" if settings.tls_server_name else ""
        return Line(OK, "TLS", f"{how}, certificate checked against {trust}{name}")
    return Line(WARNING, "TLS", "plain LDAP (allow_plaintext): passwords cross the network unencrypted")


def _bases(directory: LdapDirectory, conn: ldap3.Connection) -> Iterator[Line]:
    for base in directory.bases:
        conn.search(base, directory.map.user_filter, ldap3.SUBTREE, attributes=["1.1"], size_limit=1,
                    time_limit=directory.settings.timeout_seconds)
        code = conn.result["result"]
        if code in (0, 4):
            people = any(e.get("type") == "searchResEntry" for e in conn.response or [])
            yield Line(OK if people else WARNING, "search base",
                       f"{base}: readable, {'people found' if people else 'NO entries match ' + directory.map.user_filter}")
        else:
            yield Line(FAILED, "search base", f"{base}: {conn.result['description']} {conn.result['message']}")


def _policy_hints(directory: LdapDirectory, conn: ldap3.Connection) -> Line:
    conn.search("", "(objectClass=*)", ldap3.BASE, attributes=["supportedControl"])
    entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
    supported = bool(entries) and POLICY_HINTS in entries[0]["attributes"].get("supportedControl", [])
    if directory.settings.ad_policy_hints and not supported:
        return Line(FAILED, "policy hints", "ad_policy_hints = true but the server does not support "
                                            "LDAP_SERVER_POLICY_HINTS: every reset would fail")
    if supported and not directory.settings.ad_policy_hints:
        return Line(WARNING, "policy hints", "supported but off: resets do not check password history "
                                             "(set ad_policy_hints = true)")
    return Line(OK, "policy hints", "on" if supported else "not supported by this server (and off)")


def _policy(directory: LdapDirectory) -> Iterator[Line]:
    try:
        policy = directory.password_policy()
    except DirectoryError as error:
        yield Line(FAILED, "password policy", error.detail)
        return
    if policy == type(policy)():
        hint = " (set password_policy_dn)" if directory.kind == "openldap" else ""
        yield Line(WARNING, "password policy", f"not readable{hint}: rules cannot be shown in advance")
        return
    yield Line(OK, "password policy",
               f"minimum length {policy.min_length}, history {policy.history}, complexity "
               f"{'on' if policy.complexity else 'off'}, lockout after {policy.lockout_threshold or 'never'}")


def _test_account(directory: Directory, login: str) -> Iterator[Line]:
    try:
        user = directory.find_user(login)
    except DirectoryError as error:
        yield Line(FAILED, "test account", error.detail)
        return
    if user is None:
        yield Line(FAILED, "test account", f"{login!r}: no single account found under the search bases")
        return
    if user.protected:
        yield Line(FAILED, "test account", f"{user.dn} is on the deny list; name an ordinary account")
        return
    yield Line(OK, "test account", f"{user.dn}")
    # Random, long and of every character kind, so only a missing right can make it fail.
    password = f"Chk-{secrets.token_urlsafe(24)}-9z"
    steps: tuple[tuple[str, Callable[[], None]], ...] = (
        ("reset permission", lambda: directory.reset_password(user, password, unlock=False)),
        ("unlock permission", lambda: directory.unlock(user)))
    for step, action in steps:
        try:
            action()
        except DirectoryError as error:
            yield Line(FAILED, step, f"{type(error).__name__}: {error.detail}")
            continue
        yield Line(OK, step, f"{user.login}'s password was set to a random value" if step.startswith("reset")
                   else "lockout cleared")
