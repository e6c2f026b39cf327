"""What OpenLDAP and Active Directory share: finding people safely, reading them, binding as them.

The kind-specific parts (account state, groups, password writes and their errors) are the
abstract methods that openldap.py and active_directory.py implement.
"""
from __future__ import annotations

import functools
import logging
import time
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import ldap3
from ldap3.utils.ciDict import CaseInsensitiveDict
from ldap3.utils.conv import escape_filter_chars

from ...settings.directory import DirectorySettings
from . import dn
from .connection import LDAP3_ERRORS, Endpoint, ServicePool, bind, close, domain_error, send_write
from .errors import AccountDisabled, DirectoryError, DirectoryUnavailable, PasswordTooShort, ProtectedAccount
from .mapping import AttributeMap, attribute_map
from .model import AccountState, DirectoryUser, PasswordPolicy

log = logging.getLogger(__name__)

MAX_IDENTIFIER = 256
POLICY_CACHE_SECONDS = 300
PAGE_SIZE = 500  # entries per page; Active Directory answers at most 1000 (MaxPageSize)
WHO_AM_I = "1.3.6.1.4.1.4203.1.11.3"
PAGED_RESULTS = "1.2.840.113556.1.4.319"

Entry = Mapping[str, Any]  # one ldap3 search response item: dn, attributes, raw_attributes


def values(entry: Entry, name: str) -> tuple[str, ...]:
    """An attribute's values as strings, whatever case the server used for its name."""
    found = _attribute(entry["attributes"], name)
    if found is None:
        return ()
    items = found if isinstance(found, list) else [found]
    return tuple(v if isinstance(v, str) else v.decode("utf-8", "replace") for v in items)


def raw_values(entry: Entry, name: str) -> tuple[bytes, ...]:
    found = _attribute(entry["raw_attributes"], name)
    return tuple(found) if found is not None else ()


def _attribute(attributes: Mapping[str, Any], name: str) -> Any:
    """The value under `name` whatever case the server used for it, None when absent. ldap3
    answers with its case-insensitive dict, which finds it in one lookup (about 1 us, measured)
    where a scan of every attribute takes about 4 us; reading a person looks a dozen names up,
    and the lookup takes a tenth off the CPU of a walk through everyone (measured, 10,000 people).
    Any other mapping is scanned."""
    if isinstance(attributes, CaseInsensitiveDict):
        return attributes.get(name)
    wanted = name.lower()
    return next((found for key, found in attributes.items() if key.lower() == wanted), None)


def first(entry: Entry, name: str) -> str | None:
    found = values(entry, name)
    return found[0] if found else None


def acceptable_identifier(identifier: str) -> bool:
    """Control and format characters (NUL included) never reach a filter, escaped or not."""
    return (0 < len(identifier) <= MAX_IDENTIFIER and identifier == identifier.strip()
            and not any(unicodedata.category(c) in ("Cc", "Cf") for c in identifier))


def any_equal(names: Iterable[str], attributes: tuple[str, ...]) -> str:
    """`(|(a=n)(b=n)...)` for every name and attribute, each value escaped (RFC 4515)."""
    return "(|" + "".join(f"({a}={escape_filter_chars(n)})" for n in names for a in attributes) + ")"


@functools.lru_cache(maxsize=4096)
def _group_name(group_dn: str) -> str:
    """A group's name from its DN, cached: a listing of everybody meets the same groups again and again."""
    try:
        return dn.first_value(group_dn)
    except ValueError:
        return group_dn


def _normalized(entry_dn: str) -> tuple[dn.RDN, ...] | None:
    """dn.normalized, None for a DN that does not parse (it then equals nothing, as dn.same says)."""
    try:
        return dn.normalized(entry_dn)
    except ValueError:
        return None


class LdapDirectory(ABC):
    """The Directory interface (interface.py) over LDAP, minus the kind-specific parts."""

    kind = ""

    def __init__(self, settings: DirectorySettings) -> None:
        self.settings = settings
        self.endpoint = Endpoint(settings)
        self.pool = ServicePool(self.endpoint)
        self.map: AttributeMap = attribute_map(settings)
        self.bases = (settings.base_dn, *settings.extra_base_dns)
        self._policies: dict[str, tuple[float, PasswordPolicy]] = {}
        # parsed once, not per person listed: the portal's own account and the protected DNs
        self._denied_dns = {_normalized(d) for d in (settings.bind_dn, *settings.protected_accounts)} - {None}

    # -- reading -----------------------------------------------------------------------------

    def find_user(self, identifier: str) -> DirectoryUser | None:
        """The value goes to the server as given: which entry a name means is decided by the
        directory's own matching (OpenLDAP: case and compatibility forms; AD: case), never by a
        fold of ours. More than one match is no match."""
        return self._find_one(self._name_filter(identifier, self.map.lookup))

    def user_by_login(self, login: str) -> DirectoryUser | None:
        user = self._find_one(self._name_filter(login, self.map.own_names))
        if user is not None and not user.known_as(login):
            log.warning("directory matched %s for a name it does not carry; treated as no match", user.dn)
            return None
        return user

    def _name_filter(self, name: str, attributes: tuple[str, ...]) -> str | None:
        """`name` on any of `attributes`, among the people; None for a value never sent."""
        return f"(&{self.map.user_filter}{any_equal([name], attributes)})" if acceptable_identifier(name) else None

    def user_by_id(self, directory_id: str) -> DirectoryUser | None:
        id_filter = self._id_filter(directory_id)
        return self._find_one(f"(&{self.map.user_filter}{id_filter})" if id_filter else None)

    def people(self) -> Iterator[DirectoryUser]:
        """Streamed: one page of entries in memory at a time, on one pooled connection held
        until the last person (or the caller stops early, which closes it)."""
        return self.pool.stream(self._everyone)

    def _everyone(self, conn: ldap3.Connection) -> Iterator[DirectoryUser]:
        """A paged search (RFC 2696) per base on one connection: servers bind the paging state to
        it. OpenLDAP counts the pages together against the account's size limit, so the service
        account needs `limits dn.exact="<its DN>" size.prtotal=unlimited`. Only overlapping bases
        need the ids seen so far (to list each entry once); with one base nothing is kept."""
        seen: set[str] | None = set() if len(self.bases) > 1 else None
        for base in self.bases:
            for page in self._pages(conn, base):
                for entry in page:
                    key = self._entry_key(entry)
                    if key is None or (seen is not None and key in seen):
                        continue
                    if seen is not None:
                        seen.add(key)
                    yield self._user_from_entry(conn, entry)

    def _pages(self, conn: ldap3.Connection, base: str) -> Iterator[list[Entry]]:
        """The people under `base`, a page at a time. Each page's result and cookie are read
        before it is handed on: building a user runs other searches on the same connection
        (groups, deny list), which replace `conn.result`."""
        cookie: bytes | None = None
        while True:
            conn.search(base, self.map.user_filter, ldap3.SUBTREE, attributes=self._read_attributes(),
                        paged_size=PAGE_SIZE, paged_cookie=cookie, time_limit=self.settings.timeout_seconds)
            code = conn.result["result"]
            if code == 32:  # the base itself is missing -> nobody there
                return
            if code != 0:
                raise DirectoryUnavailable(f"listing people failed: {code} {conn.result['description']} "
                                           f"{conn.result['message']}")
            cookie = conn.result.get("controls", {}).get(PAGED_RESULTS, {}).get("value", {}).get("cookie")
            yield list(conn.response or [])
            if not cookie:
                return

    def _entry_key(self, entry: Entry) -> str | None:
        """What makes two search results one entry (overlapping bases): its directory id, never a
        folded DN, which would merge `uid=straße` and `uid=strasse`. None: not an entry."""
        if entry.get("type") != "searchResEntry":
            return None
        return self._directory_id(entry) or entry["dn"]

    def ping(self) -> None:
        def search(conn: ldap3.Connection) -> None:
            conn.search(self.settings.base_dn, "(objectClass=*)", ldap3.BASE, attributes=["1.1"],
                        time_limit=self.settings.timeout_seconds)
            if conn.result["result"] != 0:
                raise DirectoryUnavailable(f"base DN not readable: {conn.result['description']}")
        self.pool.read(search)

    def close(self) -> None:
        self.pool.close()

    def after_fork(self) -> None:
        self.pool.after_fork()

    def password_policy(self, user: DirectoryUser | None = None) -> PasswordPolicy:
        """The user's rules from where the user's entry named them when it was read (no second
        search of the entry); the default rules without a user or when it named none."""
        return self.pool.read(lambda conn: self._policy_at(conn, user.policy_dn if user else None))

    def _policy(self, conn: ldap3.Connection, entry: Entry | None) -> PasswordPolicy:
        """The policy of `entry` (or the default one)."""
        return self._policy_at(conn, self._policy_dn(entry))

    def _policy_at(self, conn: ldap3.Connection, own: str | None) -> PasswordPolicy:
        """The policy at `own` (else the default one), cached: it is read on every state check."""
        for source in dict.fromkeys(s for s in (own, self._policy_dn(None)) if s):
            cached = self._policies.get(source)
            if cached and time.monotonic() - cached[0] < POLICY_CACHE_SECONDS:
                return cached[1]
            policy_entry = self._entry(conn, source, self._policy_attributes())
            policy = self._parse_policy(policy_entry) if policy_entry is not None else None
            if policy is not None:
                self._policies[source] = (time.monotonic(), policy)
                return policy
            log.info("password policy %s is not readable by the service account", source)
        return PasswordPolicy()

    def _entry(self, conn: ldap3.Connection, entry_dn: str, attributes: list[str] | None = None) -> Entry | None:
        conn.search(entry_dn, "(objectClass=*)", ldap3.BASE, attributes=attributes or self._read_attributes(),
                    time_limit=self.settings.timeout_seconds)
        found = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        return found[0] if conn.result["result"] == 0 and found else None

    def _find_one(self, search_filter: str | None) -> DirectoryUser | None:
        if search_filter is None:
            return None
        entries = self.pool.read(lambda conn: self._search_people(conn, search_filter))
        if len(entries) != 1:
            if entries:
                log.warning("directory lookup matched %d accounts; treated as no match", len(entries))
            return None
        return self.pool.read(lambda conn: self._user_from_entry(conn, entries[0]))

    def _search_people(self, conn: ldap3.Connection, search_filter: str) -> list[Entry]:
        found: dict[str, Entry] = {}
        for base in self.bases:
            conn.search(base, search_filter, ldap3.SUBTREE, attributes=self._read_attributes(),
                        size_limit=2, time_limit=self.settings.timeout_seconds)
            code = conn.result["result"]
            if code == 4:  # sizeLimitExceeded: more than one, which is "not exactly one"
                return [{}, {}]
            if code not in (0, 32):  # 32: the base itself is missing -> nobody there
                raise DirectoryUnavailable(f"search failed: {code} {conn.result['description']} "
                                           f"{conn.result['message']}")
            for entry in conn.response or []:
                key = self._entry_key(entry)
                if key is not None:
                    found.setdefault(key, entry)
        return list(found.values())

    def _user_from_entry(self, conn: ldap3.Connection, entry: Entry) -> DirectoryUser:
        groups = self._group_dns(conn, entry)
        login = first(entry, self.map.login[0]) or ""
        user = DirectoryUser(
            dn=entry["dn"], directory_id=self._directory_id(entry), login=login,
            logins=tuple(v for name in self.map.login for v in values(entry, name)),
            display_name=first(entry, self.map.display_name) or login,
            email=first(entry, self.map.email),
            alternate_emails=values(entry, self.map.alternate_email) if self.map.alternate_email else (),
            mobile=first(entry, self.map.mobile) if self.map.mobile else None,
            preferred_language=first(entry, self.map.language) if self.map.language else None,
            groups=frozenset(_group_name(g) for g in groups), group_dns=frozenset(groups),
            attributes={name: values(entry, name) for name in self.map.extra},
            state=self._state(conn, entry), policy_dn=self._policy_dn(entry),
        )
        return DirectoryUser(**{**user.__dict__, "protected": self._protected(conn, user, entry)})

    def _protected(self, conn: ldap3.Connection, user: DirectoryUser, entry: Entry) -> bool:
        """The deny list: the portal's own account, named accounts, members of named groups."""
        if _normalized(user.dn) in self._denied_dns:
            return True
        if self._named_on_deny_list(conn, entry):
            return True
        return any(user.in_group(group) for group in self.settings.protected_groups)

    def _named_on_deny_list(self, conn: ldap3.Connection, entry: Entry) -> bool:
        """Whether the directory itself calls this entry by a protected name (its own matching,
        as for a lookup: a fold of ours could miss a name the directory holds as the same one)."""
        names = [n for n in self.settings.protected_accounts if acceptable_identifier(n)]
        if not names:
            return False
        conn.search(entry["dn"], any_equal(names, self.map.login), ldap3.BASE, attributes=["1.1"],
                    time_limit=self.settings.timeout_seconds)
        if conn.result["result"] != 0:  # the entry is gone or unreadable now: not one to change
            log.warning("deny list check of %s failed: %s", entry["dn"], conn.result["description"])
            return True
        return any(e.get("type") == "searchResEntry" for e in conn.response or [])

    # -- binding as the user -----------------------------------------------------------------

    def verify_password(self, user: DirectoryUser, password: str) -> None:
        close(self._bind_as(user, password))

    def _bind_as(self, user: DirectoryUser, password: str) -> ldap3.Connection:
        """A connection bound as `user` whose identity the server confirmed; errors mapped."""
        conn = self.endpoint.open(user.dn, password)  # refuses an empty password before any bind
        if not bind(conn, self._bind_controls()):
            result = dict(conn.result)
            close(conn)
            raise self._bind_error(user, result)
        try:
            confirmed = self._bound_identity_is(conn, user)
        except LDAP3_ERRORS as error:
            close(conn)
            raise domain_error(error, "identity check") from error
        if not confirmed:
            close(conn)
            log.error("bind as %s succeeded but the server reports another identity", user.dn)
            raise DirectoryError("bound identity does not match the account")
        return conn

    def _who_am_i(self, conn: ldap3.Connection) -> str | None:
        """The authorization identity by the WhoAmI operation (RFC 4532), None if unsupported."""
        conn.extended(WHO_AM_I)
        if conn.result["result"] != 0:
            return None
        value = conn.result.get("responseValue") or b""
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

    # -- writing -----------------------------------------------------------------------------

    def _current(self, user: DirectoryUser, new_password: str | None = None) -> DirectoryUser:
        """Re-read before a write, so a just-disabled or just-protected account is refused."""
        if new_password is not None and not new_password:
            raise PasswordTooShort("empty new password refused")
        current = self.user_by_id(user.directory_id)
        if current is None:
            raise DirectoryError(f"account {user.dn} no longer found")
        if current.protected:
            raise ProtectedAccount(f"{current.dn} is on the deny list")
        if current.state.disabled:
            raise AccountDisabled(f"{current.dn} is disabled")
        return current

    def _write_as_user(self, conn: ldap3.Connection, request: Callable[[], Any]) -> dict[str, Any]:
        """Send one write on a user-bound connection, then close it; the result to judge."""
        try:
            send_write(request)
            return dict(conn.result)
        finally:
            close(conn)

    # -- kind-specific -----------------------------------------------------------------------

    @abstractmethod
    def _read_attributes(self) -> list[str]: ...

    @abstractmethod
    def _directory_id(self, entry: Entry) -> str: ...

    @abstractmethod
    def _id_filter(self, directory_id: str) -> str | None: ...

    @abstractmethod
    def _group_dns(self, conn: ldap3.Connection, entry: Entry) -> tuple[str, ...]: ...

    @abstractmethod
    def _state(self, conn: ldap3.Connection, entry: Entry) -> AccountState: ...

    @abstractmethod
    def _policy_dn(self, entry: Entry | None) -> str | None:
        """The DN holding the rules for `entry`, or the default rules when `entry` is None."""

    @abstractmethod
    def _policy_attributes(self) -> list[str]: ...

    @abstractmethod
    def _parse_policy(self, entry: Entry) -> PasswordPolicy | None:
        """None when the entry shows none of the policy's attributes (no right to read them)."""

    @abstractmethod
    def _bind_controls(self) -> list[tuple[str, bool, bytes | None]] | None: ...

    @abstractmethod
    def _bind_error(self, user: DirectoryUser, result: dict[str, Any]) -> DirectoryError: ...

    @abstractmethod
    def _bound_identity_is(self, conn: ldap3.Connection, user: DirectoryUser) -> bool: ...
