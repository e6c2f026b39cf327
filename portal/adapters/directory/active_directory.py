"""Active Directory (and Samba AD): unicodePwd over an encrypted connection.

- reset: the service account REPLACES unicodePwd (the delegated Reset Password right); an unlock
  asked for with it goes in the same modify (lockoutTime = 0), so both happen or neither;
- change: bound as the user, DELETE the old value and ADD the new one (AD applies history and
  minimum age to this); when the password has expired or must be changed the user cannot bind,
  and the same delete-plus-add (which carries the old password) is sent on the service
  account's connection, as AD allows;
- why a password was refused: AD answers only `0000052D` (ERROR_PASSWORD_RESTRICTION) for every
  rule, so the rule is found by checking the new password against the policy that applies;
- groups are transitive (LDAP_MATCHING_RULE_IN_CHAIN); the deny list always includes the
  built-in accounts (Administrator, Guest, krbtgt), `adminCount=1` accounts and members of the
  built-in privileged groups, found by SID so renamed groups still count.
"""
from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import ldap3
from ldap3.protocol.formatters.formatters import format_sid
from ldap3.utils.conv import escape_filter_chars

from ... import clock
from . import dn, passwords
from .base import Entry, LdapDirectory, first, raw_values
from .errors import (
    AccountDisabled,
    AccountLocked,
    DirectoryError,
    PasswordExpired,
    PasswordInHistory,
    PasswordRejected,
    PasswordTooShort,
    PasswordTooSimple,
    PasswordTooYoung,
    PermissionDenied,
    WrongPassword,
)
from .model import AccountState, DirectoryUser, PasswordPolicy

log = logging.getLogger(__name__)

IN_CHAIN = "1.2.840.113556.1.4.1941"
POLICY_HINTS = "1.2.840.113556.1.4.2239"  # LDAP_SERVER_POLICY_HINTS_OID (Windows Server 2012+)
POLICY_HINTS_VALUE = bytes.fromhex("3003020101")  # SEQUENCE { Flags INTEGER 1 }: enforce history

UF_ACCOUNTDISABLE = 0x2
UF_DONT_EXPIRE_PASSWD = 0x10000
UF_LOCKOUT = 0x10
UF_PASSWORD_EXPIRED = 0x800000
NEVER = 0x7FFFFFFFFFFFFFFF
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)

PROTECTED_ACCOUNT_RIDS = {500, 501, 502}  # Administrator, Guest, krbtgt
PRIVILEGED_DOMAIN_RIDS = {512, 516, 518, 519, 520, 521, 526, 527}  # Domain/Schema/Enterprise Admins...
PRIVILEGED_BUILTIN_SIDS = {f"S-1-5-32-{rid}" for rid in (544, 548, 549, 550, 551)}  # Administrators, operators

STATE_ATTRIBUTES = ["userAccountControl", "msDS-User-Account-Control-Computed", "pwdLastSet",
                    "msDS-UserPasswordExpiryTimeComputed", "adminCount", "objectSid", "primaryGroupID",
                    "msDS-ResultantPSO", "sAMAccountName"]
DOMAIN_POLICY = ["minPwdLength", "pwdHistoryLength", "pwdProperties", "minPwdAge", "maxPwdAge",
                 "lockoutThreshold", "lockoutDuration"]
PSO_POLICY = ["msDS-MinimumPasswordLength", "msDS-PasswordHistoryLength", "msDS-PasswordComplexityEnabled",
              "msDS-MinimumPasswordAge", "msDS-MaximumPasswordAge", "msDS-LockoutThreshold",
              "msDS-LockoutDuration"]

# Bind failures: "data XXX" in the diagnostic message of result 49.
BIND_ERRORS: dict[str, type[DirectoryError]] = {
    "525": WrongPassword, "52e": WrongPassword, "530": AccountDisabled, "531": AccountDisabled,
    "533": AccountDisabled, "701": AccountDisabled, "532": PasswordExpired, "773": PasswordExpired,
    "775": AccountLocked,
}
NAME_SEPARATORS = re.compile(r"[,.\-_#\s]+")


def unicode_pwd(password: str) -> bytes:
    """AD's password value: the quoted password in UTF-16LE, the same characters a bind sends
    as UTF-8 (passwords.py refuses the ones no directory is sent)."""
    return f'"{passwords.check(password)}"'.encode("utf-16-le")


def filetime(value: str | None) -> datetime | None:
    """AD's 100-nanosecond intervals since 1601; 0 and "never" are None."""
    try:
        number = int(value or 0)
    except ValueError:
        return None
    if number <= 0 or number >= NEVER:
        return None
    return FILETIME_EPOCH + timedelta(microseconds=number // 10)


def interval_seconds(value: str | None) -> int:
    """AD stores durations as negative 100-ns intervals; the most negative one means "forever" (0)."""
    try:
        number = abs(int(value or 0))
    except ValueError:
        return 0
    return 0 if number >= NEVER else number // 10_000_000


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def server_code(result: dict[str, Any]) -> str:
    """The Windows error code AD puts first in its message: 0000052D, 00000056, 00000005..."""
    match = re.match(r"\s*([0-9A-Fa-f]{8})\s*:", result.get("message") or "")
    return match.group(1).upper() if match else ""


def describe(result: dict[str, Any]) -> str:
    return f"{result.get('result')} {result.get('description')} {result.get('message')!r}"


def meets_complexity(password: str, user: DirectoryUser) -> bool:
    """AD's rule: three of five character kinds, and no account name or display-name part."""
    kinds = [any(c.isupper() for c in password), any(c.islower() for c in password),
             any(c.isdigit() for c in password), any(not c.isalnum() for c in password),
             any(c.isalpha() and not (c.isupper() or c.islower()) for c in password)]
    if sum(kinds) < 3:
        return False
    folded = password.casefold()
    if len(user.login) >= 3 and user.login.casefold() in folded:
        return False
    return not any(len(part) >= 3 and part.casefold() in folded
                   for part in NAME_SEPARATORS.split(user.display_name))


class ActiveDirectory(LdapDirectory):
    kind = "active_directory"

    # -- reading -----------------------------------------------------------------------------

    def _read_attributes(self) -> list[str]:
        return list(dict.fromkeys(self.map.common + STATE_ATTRIBUTES))

    def _directory_id(self, entry: Entry) -> str:
        raw = raw_values(entry, "objectGUID")
        return str(uuid.UUID(bytes_le=raw[0])) if raw else ""

    def _id_filter(self, directory_id: str) -> str | None:
        try:
            guid = uuid.UUID(directory_id).bytes_le
        except ValueError:
            return None
        return f"(objectGUID={escape_filter_chars(guid)})"

    @property
    def _group_base(self) -> str:
        return self.settings.group_base_dn or dn.domain_root(self.settings.base_dn)

    def _group_dns(self, conn: ldap3.Connection, entry: Entry) -> tuple[str, ...]:
        """Every group the user is in, directly or through other groups."""
        conn.search(self._group_base, f"(member:{IN_CHAIN}:={escape_filter_chars(entry['dn'])})",
                    ldap3.SUBTREE, attributes=["1.1"], time_limit=self.settings.timeout_seconds)
        return tuple(e["dn"] for e in conn.response or [] if e.get("type") == "searchResEntry")

    def _state(self, conn: ldap3.Connection, entry: Entry) -> AccountState:
        control = _int(first(entry, "userAccountControl"))
        computed = _int(first(entry, "msDS-User-Account-Control-Computed"))
        last_set = first(entry, "pwdLastSet")
        expires = None if control & UF_DONT_EXPIRE_PASSWD else \
            filetime(first(entry, "msDS-UserPasswordExpiryTimeComputed"))
        return AccountState(
            disabled=bool(control & UF_ACCOUNTDISABLE), locked=bool(computed & UF_LOCKOUT),
            must_change_password=last_set == "0", password_changed_at=filetime(last_set),
            password_expires_at=expires,
            password_expired=bool(computed & UF_PASSWORD_EXPIRED) or last_set == "0")

    def _protected(self, conn: ldap3.Connection, user: DirectoryUser, entry: Entry) -> bool:
        if super()._protected(conn, user, entry) or first(entry, "adminCount") == "1":
            return True
        sid = raw_values(entry, "objectSid")
        if not sid:
            return True  # an account we cannot identify is not one to change
        user_sid = format_sid(sid[0])
        domain_sid, rid = user_sid.rsplit("-", 1)
        if int(rid) in PROTECTED_ACCOUNT_RIDS or _int(first(entry, "primaryGroupID")) in PRIVILEGED_DOMAIN_RIDS:
            return True
        privileged = {f"{domain_sid}-{r}" for r in PRIVILEGED_DOMAIN_RIDS} | PRIVILEGED_BUILTIN_SIDS
        sids = "".join(f"(objectSid={s})" for s in sorted(privileged))
        conn.search(self._group_base, f"(&(member:{IN_CHAIN}:={escape_filter_chars(entry['dn'])})(|{sids}))",
                    ldap3.SUBTREE, attributes=["1.1"], time_limit=self.settings.timeout_seconds)
        return any(e.get("type") == "searchResEntry" for e in conn.response or [])

    def _policy_dn(self, entry: Entry | None) -> str | None:
        own = first(entry, "msDS-ResultantPSO") if entry is not None else None
        return own or dn.domain_root(self.settings.base_dn)

    def _policy_attributes(self) -> list[str]:
        return DOMAIN_POLICY + PSO_POLICY

    def _parse_policy(self, entry: Entry) -> PasswordPolicy | None:
        if first(entry, "msDS-MinimumPasswordLength") is not None:  # a fine-grained policy (PSO)
            return PasswordPolicy(
                min_length=_int(first(entry, "msDS-MinimumPasswordLength")),
                history=_int(first(entry, "msDS-PasswordHistoryLength")),
                complexity=(first(entry, "msDS-PasswordComplexityEnabled") or "").upper() == "TRUE",
                min_age_seconds=interval_seconds(first(entry, "msDS-MinimumPasswordAge")),
                max_age_seconds=interval_seconds(first(entry, "msDS-MaximumPasswordAge")),
                lockout_threshold=_int(first(entry, "msDS-LockoutThreshold")),
                lockout_seconds=interval_seconds(first(entry, "msDS-LockoutDuration")))
        if first(entry, "minPwdLength") is None:
            return None
        return PasswordPolicy(
            min_length=_int(first(entry, "minPwdLength")), history=_int(first(entry, "pwdHistoryLength")),
            complexity=bool(_int(first(entry, "pwdProperties")) & 1),
            min_age_seconds=interval_seconds(first(entry, "minPwdAge")),
            max_age_seconds=interval_seconds(first(entry, "maxPwdAge")),
            lockout_threshold=_int(first(entry, "lockoutThreshold")),
            lockout_seconds=interval_seconds(first(entry, "lockoutDuration")))

    # -- binding -----------------------------------------------------------------------------

    def _bind_controls(self) -> None:
        return None

    def _bind_error(self, user: DirectoryUser, result: dict[str, Any]) -> DirectoryError:
        if result.get("result") == 49:
            match = re.search(r"data ([0-9a-fA-F]+)", result.get("message") or "")
            error = BIND_ERRORS.get(match.group(1).lower() if match else "", WrongPassword)
            return error(describe(result))
        return DirectoryError(describe(result))  # e.g. 8 strongerAuthRequired: settings lack TLS

    def _bound_identity_is(self, conn: ldap3.Connection, user: DirectoryUser) -> bool:
        """WhoAmI where the server has it (Windows); else the user's SID in the bound token."""
        conn.search(user.dn, "(objectClass=*)", ldap3.BASE, attributes=["objectSid", "sAMAccountName"])
        own = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        if conn.result["result"] != 0 or not own:
            return False
        identity = self._who_am_i(conn)
        if identity is not None:
            sam = first(own[0], "sAMAccountName") or ""
            return bool(sam) and identity.casefold().endswith("\\" + sam.casefold())
        conn.search("", "(objectClass=*)", ldap3.BASE, attributes=["tokenGroups"])
        token = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
        sid = raw_values(own[0], "objectSid")
        return bool(token and sid) and sid[0] in raw_values(token[0], "tokenGroups")

    # -- writing -----------------------------------------------------------------------------

    def change_password(self, user: DirectoryUser, old_password: str, new_password: str) -> None:
        current = self._current(user, new_password)
        changes = {"unicodePwd": [(ldap3.MODIFY_DELETE, [unicode_pwd(old_password)]),
                                  (ldap3.MODIFY_ADD, [unicode_pwd(new_password)])]}
        try:
            conn = self._bind_as(current, old_password)
        except PasswordExpired:
            # The user cannot bind with an expired password; AD accepts the change (old + new) on
            # any authenticated connection and still checks the old password and the policy.
            result = self.pool.write(lambda c: _modify(c, current.dn, changes, None))
        else:
            result = self._write_as_user(conn, lambda: conn.modify(current.dn, changes))
        if result["result"] != 0:
            raise self._write_error(result, current, new_password, change=True)

    def reset_password(self, user: DirectoryUser, new_password: str, *, unlock: bool,
                       must_change: bool = False) -> None:
        current = self._current(user, new_password)
        changes: dict[str, list[tuple[str, list[Any]]]] = {
            "unicodePwd": [(ldap3.MODIFY_REPLACE, [unicode_pwd(new_password)])]}
        if must_change:  # pwdLastSet 0: "user must change password at next logon"
            changes["pwdLastSet"] = [(ldap3.MODIFY_REPLACE, ["0"])]
        if unlock and current.state.locked:
            changes["lockoutTime"] = [(ldap3.MODIFY_REPLACE, ["0"])]
        controls = [(POLICY_HINTS, True, POLICY_HINTS_VALUE)] if self.settings.ad_policy_hints else None
        result = self.pool.write(lambda c: _modify(c, current.dn, changes, controls))
        if result["result"] != 0:
            raise self._write_error(result, current, new_password, change=False)

    def unlock(self, user: DirectoryUser) -> None:
        current = self._current(user)
        result = self.pool.write(
            lambda c: _modify(c, current.dn, {"lockoutTime": [(ldap3.MODIFY_REPLACE, ["0"])]}, None))
        if result["result"] != 0:
            raise self._write_error(result, current, None, change=False)

    def _write_error(self, result: dict[str, Any], user: DirectoryUser, password: str | None,
                     *, change: bool) -> DirectoryError:
        code = server_code(result)
        if result.get("result") == 19 and code == "00000056":  # ERROR_INVALID_PASSWORD: old is wrong
            return WrongPassword(describe(result))
        if result.get("result") == 19 and code == "0000052D" and password is not None:
            return self._diagnose(user, password, describe(result), change=change)
        if result.get("result") == 50 or code == "00000005":
            return PermissionDenied(describe(result))
        if result.get("result") == 12:
            log.error("the directory does not support LDAP_SERVER_POLICY_HINTS; "
                      "set directory.ad_policy_hints = false")
        return DirectoryError(describe(result))

    def _diagnose(self, user: DirectoryUser, password: str, detail: str, *, change: bool) -> PasswordRejected:
        """Which rule refused the password: AD's 0000052D does not say, the policy does."""
        policy = self.password_policy(user)
        changed = user.state.password_changed_at
        if change and policy.min_age_seconds and changed and \
                clock.utcnow() < changed + timedelta(seconds=policy.min_age_seconds):
            return PasswordTooYoung(detail)
        if len(password) < policy.min_length:
            return PasswordTooShort(detail)
        if policy.complexity and not meets_complexity(password, user):
            return PasswordTooSimple(detail)
        if policy.history:
            return PasswordInHistory(detail)
        return PasswordRejected(detail)


def _modify(conn: ldap3.Connection, entry_dn: str, changes: dict[str, Any],
            controls: list[tuple[str, bool, bytes]] | None) -> dict[str, Any]:
    conn.modify(entry_dn, changes, controls=controls)
    return dict(conn.result)
