"""OpenLDAP with the ppolicy overlay: Password Modify (RFC 3062) and ppolicy's answers.

Conventions of slapd's ppolicy that this relies on:
- locked: `pwdAccountLockedTime` is set (and, with a lockout duration, recent enough);
- disabled: `pwdAccountLockedTime` is 000001010000Z, "locked until an administrator unlocks";
- must change: `pwdReset` TRUE; expiry: `pwdChangedTime` + the policy's `pwdMaxAge`;
- why something failed is only in the password policy response control (ppolicy.py).
Groups come from memberOf (the memberof overlay): OpenLDAP does not nest groups there.
The overlay's default policy is not visible over LDAP: `password_policy_dn` names it.
"""
from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import ldap3
from ldap3.protocol.rfc3062 import PasswdModifyRequestValue

from ... import clock
from . import dn, passwords, ppolicy
from .base import Entry, LdapDirectory, first, values
from .errors import (
    AccountDisabled,
    AccountLocked,
    DirectoryError,
    MustChangeNotSet,
    PasswordExpired,
    PasswordInHistory,
    PasswordRejected,
    PasswordTooShort,
    PasswordTooSimple,
    PasswordTooYoung,
    PermissionDenied,
    StillLockedAfterReset,
    WrongPassword,
)
from .model import AccountState, DirectoryUser, PasswordPolicy

log = logging.getLogger(__name__)

PASSWORD_MODIFY = "1.3.6.1.4.1.4203.1.11.1"
DISABLED = "000001010000Z"
STATE_ATTRIBUTES = ["pwdAccountLockedTime", "pwdChangedTime", "pwdReset", "pwdPolicySubentry", "memberOf"]
POLICY_ATTRIBUTES = ["pwdAttribute", "pwdMinLength", "pwdInHistory", "pwdCheckQuality", "pwdMinAge", "pwdMaxAge",
                     "pwdLockout", "pwdMaxFailure", "pwdLockoutDuration"]

POLICY_ERRORS: dict[int, type[DirectoryError]] = {
    ppolicy.PASSWORD_EXPIRED: PasswordExpired,
    ppolicy.ACCOUNT_LOCKED: AccountLocked,
    ppolicy.PASSWORD_MOD_NOT_ALLOWED: PermissionDenied,
    ppolicy.MUST_SUPPLY_OLD_PASSWORD: WrongPassword,
    ppolicy.INSUFFICIENT_QUALITY: PasswordTooSimple,
    ppolicy.PASSWORD_TOO_SHORT: PasswordTooShort,
    ppolicy.PASSWORD_TOO_YOUNG: PasswordTooYoung,
    ppolicy.PASSWORD_IN_HISTORY: PasswordInHistory,
    ppolicy.PASSWORD_TOO_LONG: PasswordRejected,
}


def generalized_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _number(entry: Entry, name: str) -> int:
    try:
        return int(first(entry, name) or 0)
    except ValueError:
        return 0


def describe(result: dict[str, Any]) -> str:
    """Result code, description and the server's words, for the log."""
    response = ppolicy.from_result(result)
    return (f"{result.get('result')} {result.get('description')} {result.get('message')!r}"
            f" ppolicy={response.error}")


def write_error(result: dict[str, Any]) -> DirectoryError:
    """Map a failed password write to the domain error the user can act on."""
    code = ppolicy.from_result(result).error
    if code in POLICY_ERRORS:
        return POLICY_ERRORS[code](describe(result))
    if result.get("result") in (50, 53):  # insufficientAccessRights, unwillingToPerform
        return PermissionDenied(describe(result))
    if result.get("result") == 19:
        return PasswordRejected(describe(result))
    if result.get("result") == 49:
        return WrongPassword(describe(result))
    return DirectoryError(describe(result))


class OpenLdapDirectory(LdapDirectory):
    kind = "openldap"

    # -- reading -----------------------------------------------------------------------------

    def _read_attributes(self) -> list[str]:
        return self.map.common + STATE_ATTRIBUTES

    def _directory_id(self, entry: Entry) -> str:
        return first(entry, "entryUUID") or ""

    def _id_filter(self, directory_id: str) -> str | None:
        try:
            return f"(entryUUID={uuid.UUID(directory_id)})"
        except ValueError:
            return None

    def _group_dns(self, conn: ldap3.Connection, entry: Entry) -> tuple[str, ...]:
        return values(entry, "memberOf")

    def _state(self, conn: ldap3.Connection, entry: Entry) -> AccountState:
        policy = self._policy(conn, entry)
        now = clock.utcnow()
        locked_value = first(entry, "pwdAccountLockedTime")
        locked_at = generalized_time(locked_value)
        locked = locked_value is not None and (
            policy.lockout_seconds == 0 or locked_at is None
            or now < locked_at + timedelta(seconds=policy.lockout_seconds))
        changed = generalized_time(first(entry, "pwdChangedTime"))
        expires = changed + timedelta(seconds=policy.max_age_seconds) if changed and policy.max_age_seconds else None
        return AccountState(
            disabled=locked_value == DISABLED, locked=locked and locked_value != DISABLED,
            must_change_password=(first(entry, "pwdReset") or "").upper() == "TRUE",
            password_changed_at=changed, password_expires_at=expires,
            password_expired=expires is not None and now >= expires)

    def _policy_dn(self, entry: Entry | None) -> str | None:
        own = first(entry, "pwdPolicySubentry") if entry is not None else None
        return own or self.settings.password_policy_dn or None

    def _policy_attributes(self) -> list[str]:
        return POLICY_ATTRIBUTES

    def _parse_policy(self, entry: Entry) -> PasswordPolicy | None:
        if first(entry, "pwdAttribute") is None:
            return None
        lockout = (first(entry, "pwdLockout") or "").upper() == "TRUE"
        # ppolicy checks pwdMinLength only when pwdCheckQuality asks for quality checks.
        return PasswordPolicy(
            min_length=_number(entry, "pwdMinLength") if _number(entry, "pwdCheckQuality") else 0,
            history=_number(entry, "pwdInHistory"), complexity=False,
            min_age_seconds=_number(entry, "pwdMinAge"), max_age_seconds=_number(entry, "pwdMaxAge"),
            lockout_threshold=_number(entry, "pwdMaxFailure") if lockout else 0,
            lockout_seconds=_number(entry, "pwdLockoutDuration") if lockout else 0)

    # -- binding -----------------------------------------------------------------------------

    def _bind_controls(self) -> list[tuple[str, bool, bytes | None]]:
        return [ppolicy.REQUEST]

    def _bind_error(self, user: DirectoryUser, result: dict[str, Any]) -> DirectoryError:
        code = ppolicy.from_result(result).error
        if result.get("result") == 49 and code == ppolicy.ACCOUNT_LOCKED:
            current = self.user_by_id(user.directory_id)
            if current is not None and current.state.disabled:
                return AccountDisabled(describe(result))
            return AccountLocked(describe(result))
        if code == ppolicy.PASSWORD_EXPIRED:
            return PasswordExpired(describe(result))
        if result.get("result") == 49:
            return WrongPassword(describe(result))
        return DirectoryError(describe(result))

    def _bound_identity_is(self, conn: ldap3.Connection, user: DirectoryUser) -> bool:
        identity = self._who_am_i(conn) or ""
        return identity.startswith("dn:") and dn.same(identity[3:], user.dn)

    # -- writing -----------------------------------------------------------------------------

    def change_password(self, user: DirectoryUser, old_password: str, new_password: str) -> None:
        current = self._current(user, new_password)
        conn = self._bind_as(current, old_password)
        result = self._write_as_user(conn, lambda: conn.extended(
            PASSWORD_MODIFY, _modify_request(None, old_password, new_password), controls=[ppolicy.REQUEST]))
        if result["result"] != 0:
            raise write_error(result)

    def reset_password(self, user: DirectoryUser, new_password: str, *, unlock: bool,
                       must_change: bool = False) -> None:
        current = self._current(user, new_password)

        def send(conn: ldap3.Connection) -> dict[str, Any]:
            conn.extended(PASSWORD_MODIFY, _modify_request(current.dn, None, new_password),
                          controls=[ppolicy.REQUEST])
            return dict(conn.result)

        result = self.pool.write(send)
        if result["result"] != 0:
            raise write_error(result)
        if must_change:
            self._require_change(current)
        if unlock and current.state.locked:
            try:
                self._unlock(current)
            except DirectoryError as error:
                raise StillLockedAfterReset(f"reset done, unlock failed: {error.detail}") from error

    def _require_change(self, user: DirectoryUser) -> None:
        """ppolicy's own flag: binds are answered "change after reset" until the person changes it."""
        def send(conn: ldap3.Connection) -> dict[str, Any]:
            conn.modify(user.dn, {"pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])]})
            return dict(conn.result)

        result = self.pool.write(send)
        if result["result"] != 0:
            raise MustChangeNotSet(f"password set, pwdReset refused: {describe(result)}")

    def unlock(self, user: DirectoryUser) -> None:
        self._unlock(self._current(user))

    def _unlock(self, user: DirectoryUser) -> None:
        def send(conn: ldap3.Connection) -> dict[str, Any]:
            # Replacing with no values removes the attribute if present and is no error if not;
            # ppolicy clears pwdFailureTime along with it.
            conn.modify(user.dn, {"pwdAccountLockedTime": [(ldap3.MODIFY_REPLACE, [])]})
            return dict(conn.result)

        result = self.pool.write(send)
        if result["result"] != 0:
            raise write_error(result)


def _modify_request(identity: str | None, old: str | None, new: str) -> PasswdModifyRequestValue:
    request = PasswdModifyRequestValue()
    if identity is not None:
        request["userIdentity"] = identity
    if old is not None:
        request["oldPasswd"] = passwords.as_typed(old)
    request["newPasswd"] = passwords.as_typed(new)
    return request
