"""`flask --app wsgi directory check`: what works and what is missing, one line per step.

IT runs it before rollout to prove the service account can do its job: reach the server, secure
the connection with a certificate that checks out, bind, read the search bases and the password
policy, and (given a test account) actually reset and unlock it. Each step stops the later ones
that depend on it, so the first FAILED line is the one to fix.

`flask --app wsgi doctor` runs the same steps and adds the ones that change nothing: the rights
probed on a test account (`rights`) and the accounts in scope the portal refuses (`protected`).
A line may carry a fix: what to change so it passes.
"""
from __future__ import annotations

import secrets
import socket
import ssl
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import ldap3
from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID
from ldap3.utils.conv import escape_filter_chars

from ...settings.directory import DirectorySettings
from . import dn
from .active_directory import IN_CHAIN, POLICY_HINTS
from .base import LdapDirectory, values
from .connection import LDAP3_ERRORS, ServicePool, bind, close, domain_error
from .errors import DirectoryError, PasswordRejected, PermissionDenied
from .interface import Directory
from .model import DirectoryUser

OK, WARNING, FAILED = "ok", "warning", "FAILED"
EXPIRY_WARNING_DAYS = 30
LISTED = 10  # protected accounts named on their line; the count says how many more
ADMIN_COUNT_FIX = ("nothing for administrators; someone who left the admin groups keeps adminCount=1 "
                   "until it is cleared (and inheritance re-enabled on the account)")


@dataclass(frozen=True)
class Line:
    status: str
    step: str
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        fix = f" — fix: {self.fix}" if self.fix else ""
        return f"{self.status:<8}{self.step}: {self.detail}{fix}"


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
        yield _untrusted(settings, error)
        return
    yield _tls_line(settings, conn)

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


def _tls_line(settings: DirectorySettings, conn: ldap3.Connection) -> Line:
    """How the connection is secured, and how long the certificate that checked out stays valid."""
    if not (settings.url.startswith("ldaps://") or settings.start_tls):
        return Line(WARNING, "TLS", "plain LDAP (allow_plaintext): passwords cross the network unencrypted",
                    "use ldaps:// or start_tls = true, with ca_file naming the directory's CA")
    how = "LDAPS" if settings.url.startswith("ldaps://") else "StartTLS"
    trust = settings.ca_file or "the system's CA store"
    name = f", name {settings.tls_server_name}" if settings.tls_server_name else ""
    found = f"{how}, certificate checked against {trust}{name}"
    der = conn.socket.getpeercert(binary_form=True) if isinstance(conn.socket, ssl.SSLSocket) else None
    if not der:
        return Line(OK, "TLS", found)
    cert = _certificate(der)
    days = (cert.not_valid_after_utc - datetime.now(UTC)).days
    found += f"; {_describe(cert)}"
    if days < EXPIRY_WARNING_DAYS:
        return Line(WARNING, "TLS", f"{found}: expires in {days} days",
                    "renew the directory's certificate: the portal cannot connect once it has expired")
    return Line(OK, "TLS", found)


def _describe(cert: x509.Certificate) -> str:
    return (f"certificate {_name(cert.subject)} issued by {_name(cert.issuer)}, "
            f"valid until {cert.not_valid_after_utc:%Y-%m-%d}")


def _name(name: x509.Name) -> str:
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return f"CN={common[0].value!s}" if common else name.rfc4514_string()


def _untrusted(settings: DirectorySettings, error: DirectoryError) -> Line:
    """Why the connection could not be secured, from the certificate the server presents."""
    cert = _presented_certificate(settings)
    if cert is None:
        return Line(FAILED, "TLS", error.detail, "check url, start_tls, ca_file and tls_server_name")
    found = _describe(cert)
    if cert.not_valid_after_utc < datetime.now(UTC):
        return Line(FAILED, "TLS", f"{found}: EXPIRED", "renew the directory's certificate")
    expected = settings.tls_server_name or urlsplit(settings.url).hostname or ""
    names = _dns_names(cert)
    if expected.lower() not in names | _ip_addresses(cert):
        return Line(FAILED, "TLS", f"{found}: it does not name {expected!r} (it names {', '.join(sorted(names))})",
                    f"set tls_server_name to one of {', '.join(sorted(names))}, or use that name in url")
    trust = f"ca_file ({settings.ca_file})" if settings.ca_file else "the system's CA store"
    return Line(FAILED, "TLS", f"{found}: not trusted by {trust} ({error.detail})",
                f"set ca_file to the PEM file of the CA that issued it ({_name(cert.issuer)}) "
                "and of any intermediate CA")


def _dns_names(cert: x509.Certificate) -> set[str]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return {n.lower() for n in names.get_values_for_type(x509.DNSName)}
    except x509.ExtensionNotFound:  # no SAN (Samba's own certificate): the common name is the name
        return {str(a.value).lower() for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}


def _ip_addresses(cert: x509.Certificate) -> set[str]:
    """IP addresses a certificate names: they count for the name check, but are never proposed as
    tls_server_name (ldap3 on Python 3.12+ ignores them)."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(address) for address in names.get_values_for_type(x509.IPAddress)}


def _presented_certificate(settings: DirectorySettings) -> x509.Certificate | None:
    """The server's certificate fetched WITHOUT checking it, to explain why the check failed;
    this connection sends nothing but the StartTLS request, and no password."""
    parts = urlsplit(settings.url)
    ldaps = parts.scheme == "ldaps"
    server = ldap3.Server(parts.hostname or "", port=parts.port or (636 if ldaps else 389), use_ssl=ldaps,
                          tls=ldap3.Tls(validate=ssl.CERT_NONE, version=None), get_info=ldap3.NONE,
                          connect_timeout=settings.timeout_seconds)
    conn = ldap3.Connection(server, receive_timeout=settings.timeout_seconds, raise_exceptions=False)
    try:
        conn.open()
        if not ldaps and not conn.start_tls():
            return None
        der = conn.socket.getpeercert(binary_form=True)
    except LDAP3_ERRORS:
        return None
    finally:
        close(conn)
    return _certificate(der) if der else None


def _certificate(der: bytes) -> x509.Certificate:
    """Samba's own certificates have a negative serial number: cryptography warns, and reads them."""
    with warnings.catch_warnings(action="ignore", category=CryptographyDeprecationWarning):
        return x509.load_der_x509_certificate(der)


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
        fix = ("set password_policy_dn to the DN of ppolicy's default policy" if directory.kind == "openldap"
               else "let the service account read the domain object's password settings")
        yield Line(WARNING, "password policy", f"not readable{hint}: rules cannot be shown in advance", fix)
        return
    yield Line(OK, "password policy",
               f"minimum length {policy.min_length}, history {policy.history}, complexity "
               f"{'on' if policy.complexity else 'off'}, lockout after {policy.lockout_threshold or 'never'}")


def _find_test_account(directory: Directory, login: str) -> tuple[Line, DirectoryUser | None]:
    """The test account's line, and the account when it is one the portal may change."""
    try:
        user = directory.find_user(login)
    except DirectoryError as error:
        return Line(FAILED, "test account", error.detail), None
    if user is None:
        return Line(FAILED, "test account", f"{login!r}: no single account found under the search bases",
                    "name an existing ordinary account"), None
    if user.protected:
        return Line(FAILED, "test account", f"{user.dn} is on the deny list",
                    "name an ordinary account, not an administrator or a member of a protected group"), None
    return Line(OK, "test account", f"{user.dn}"), user


def _test_account(directory: Directory, login: str) -> Iterator[Line]:
    line, user = _find_test_account(directory, login)
    yield line
    if user is None:
        return
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


# -- what `doctor` adds: nothing here changes an account -------------------------------------

def rights(directory: Directory, login: str) -> Iterator[Line]:
    """The service account's rights on `login`, probed by requests that cannot change it."""
    assert isinstance(directory, LdapDirectory)
    line, user = _find_test_account(directory, login)
    yield line
    if user is None:
        return
    try:
        if directory.kind == "active_directory":
            yield _ad_unlock_right(directory, user)
            yield _ad_reset_right(directory, user)
        else:
            yield from _openldap_rights(directory, directory.pool, user)
    except DirectoryError as error:
        yield Line(FAILED, "rights", f"{type(error).__name__}: {error.detail}")


def _ad_unlock_right(directory: LdapDirectory, user: DirectoryUser) -> Line:
    """AD says which attributes the bound account may write on an entry: unlocking writes lockoutTime."""
    def read(conn: ldap3.Connection) -> tuple[str, ...]:
        conn.search(user.dn, "(objectClass=*)", ldap3.BASE, attributes=["allowedAttributesEffective"],
                    time_limit=directory.settings.timeout_seconds)
        found = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        return values(found[0], "allowedAttributesEffective") if found else ()
    writable = {name.lower() for name in directory.pool.read(read)}
    if "lockouttime" in writable:
        return Line(OK, "unlock right", f"allowedAttributesEffective on {user.login} includes lockoutTime")
    return Line(FAILED, "unlock right", f"the service account may not write lockoutTime on {user.login}",
                "grant it Read/Write Property on lockoutTime (28630ebf-41d5-11d1-a9c1-0000f80367c1) "
                "for user objects on the people OU")


def _ad_reset_right(directory: Directory, user: DirectoryUser) -> Line:
    """Reset Password is a control access right, not an attribute: it is proved by a reset the
    policy must refuse (one character). AD checks the right before the policy (Samba measured)."""
    policy = directory.password_policy(user)
    if policy.min_length < 2 and not policy.complexity:
        return Line(WARNING, "reset right", "not checked: the password policy would accept the probe's "
                    "one-character password", "check with `directory check --test-account` (a real reset)")
    try:
        directory.reset_password(user, "x", unlock=False)
    except PermissionDenied as error:
        return Line(FAILED, "reset right", f"the service account may not reset {user.login}'s password "
                    f"({error.detail})", "delegate the Reset Password right "
                    "(00299570-246d-11d0-a768-00aa006e0529) for user objects on the people OU")
    except PasswordRejected:
        return Line(OK, "reset right", f"a reset of {user.login} reached the password policy "
                    "(refused by it, as intended: nothing changed)")
    return Line(FAILED, "reset right", f"the probe's one-character password was ACCEPTED for {user.login}",
                "set a new password on the test account, and a minimum length on the domain policy")


def _openldap_rights(directory: Directory, pool: ServicePool, user: DirectoryUser) -> Iterator[Line]:
    """Two writes that change nothing: clearing a lockout the test account does not have, and
    deleting a userPassword value it does not have (slapd checks the ACL first: 50 without the
    right, noSuchAttribute with it)."""
    try:
        directory.unlock(user)
        yield Line(OK, "unlock right", f"may clear the lockout of {user.login}")
    except PermissionDenied as error:
        yield Line(FAILED, "unlock right", f"may not write pwdAccountLockedTime on {user.login} ({error.detail})",
                   "give the service account write on pwdAccountLockedTime,pwdFailureTime in slapd's ACL")
    absent = f"{{SSHA}}doctor-{secrets.token_urlsafe(12)}"

    def delete(conn: ldap3.Connection) -> dict[str, object]:
        conn.modify(user.dn, {"userPassword": [(ldap3.MODIFY_DELETE, [absent])]})
        return dict(conn.result)
    result = pool.write(delete)
    if result["result"] == 16:  # noSuchAttribute: the ACL let the write through to the entry
        yield Line(OK, "reset right", f"may write userPassword on {user.login} (the probe deleted a value "
                                      "the account does not have: nothing changed)")
        return
    yield Line(FAILED, "reset right", f"may not write userPassword on {user.login} (the probe answered "
                                      f"{result['result']} {result.get('description')})",
               "give the service account write on userPassword in slapd's ACL (`by dn.exact=\"<bind_dn>\" =wx`)")


def protected(directory: Directory) -> Iterator[Line]:
    """The accounts in scope the portal refuses to reset, change or unlock, and why."""
    assert isinstance(directory, LdapDirectory)
    settings = directory.settings
    named = ", ".join(settings.protected_accounts) or "none"
    groups = ", ".join(settings.protected_groups) or "none"
    builtin = (" and AD's own (Administrator, Guest, krbtgt, adminCount=1, members of the privileged "
               "groups)" if directory.kind == "active_directory" else "")
    yield Line(OK, "deny list", f"the service account, protected_accounts: {named}; members of "
                                f"protected_groups: {groups}{builtin}; reset answers them like an unknown account")
    try:
        members = directory.pool.read(lambda conn: _group_members(directory, conn))
        admins = directory.pool.read(lambda conn: _admin_count(directory, conn)) \
            if directory.kind == "active_directory" else None
    except DirectoryError as error:
        yield Line(FAILED, "protected accounts", error.detail)
        return
    for group, logins in members.items():
        yield Line(OK, "protected group", f"{group}: {_listed(logins) or 'nobody'} under the search bases; "
                                          "reset refuses them (protected_groups)")
    if admins == []:
        yield Line(OK, "protected accounts", "no account with adminCount=1 under the search bases")
    elif admins:
        yield Line(WARNING, "protected accounts",
                   f"adminCount=1 under the search bases: {_listed(admins)}; reset refuses them (AD marks "
                   "accounts that are or were in a privileged group)", ADMIN_COUNT_FIX)


def _listed(logins: list[str]) -> str:
    if not logins:
        return ""
    more = f" and {len(logins) - LISTED} more" if len(logins) > LISTED else ""
    return f"{len(logins)} account(s): {', '.join(logins[:LISTED])}{more}"


def _group_members(directory: LdapDirectory, conn: ldap3.Connection) -> dict[str, list[str]]:
    """Each protected group (a name is the group's CN, as in_group compares it) -> its members in scope;
    AD counts nested membership, as the deny list does."""
    settings = directory.settings
    base = settings.group_base_dn or dn.domain_root(settings.base_dn)
    match = f":{IN_CHAIN}:" if directory.kind == "active_directory" else ""
    found: dict[str, list[str]] = {}
    for group in settings.protected_groups:
        if "=" in group:
            group_dns = [group]
        else:
            conn.search(base, f"(cn={escape_filter_chars(group)})", ldap3.SUBTREE, attributes=["1.1"],
                        time_limit=settings.timeout_seconds)
            group_dns = [e["dn"] for e in conn.response or [] if e.get("type") == "searchResEntry"]
        found[group] = sorted({login for group_dn in group_dns for login in _people(
            directory, conn, f"(memberOf{match}={escape_filter_chars(group_dn)})")})
    return found


def _admin_count(directory: LdapDirectory, conn: ldap3.Connection) -> list[str]:
    return sorted(set(_people(directory, conn, "(adminCount=1)")))


def _people(directory: LdapDirectory, conn: ldap3.Connection, condition: str) -> Iterator[str]:
    """The login names of the people under the search bases who meet `condition` (a bounded search)."""
    login = directory.map.login[0]
    for base in directory.bases:
        conn.search(base, f"(&{directory.map.user_filter}{condition})", ldap3.SUBTREE, attributes=[login],
                    size_limit=LISTED * 10, time_limit=directory.settings.timeout_seconds)
        for entry in conn.response or []:
            if entry.get("type") == "searchResEntry":
                yield (values(entry, login) or (entry["dn"],))[0]
