"""What a help-desk agent may do for a caller, step by step, each step on record with both names.

The agent looks the person up (masked methods only), sends a code to one of the person's own
destinations (or asks for the current code of their authenticator app), types what the caller
reads back, and only after that passes may reset (a temporary password the directory makes them
change at next sign-in) or unlock. The codes are the reset's: random, short-lived, single use,
hashed at rest, counted before compared (proofs/verification.py). Administrators' and protected
accounts, and the agent's own, are refused at every step, not just at the lookup. Every agent has
hourly budgets (lookups, codes, resets and unlocks) in the limiter's storage, so they hold across
processes. Writes follow writes.py: the attempt is committed before the directory is called.
"""
from __future__ import annotations

import enum
import secrets
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from ...adapters.directory import (
    DirectoryError,
    DirectoryUser,
    MustChangeNotSet,
    OutcomeUnknown,
    StillLockedAfterReset,
)
from ...settings.helpdesk import RESET_LINK
from .. import errors
from ..container import Collaborators
from ..identity.admin_access import is_member
from ..messaging import password_notices, webhooks
from ..messaging.links import external_url
from ..messaging.messages import queue_mail
from ..messaging.notifications import recipients
from ..passwords import writes
from ..passwords.rules import personal_words
from ..proofs import security_info
from ..proofs.codes import CodeCheck
from ..proofs.methods import REGISTRY, Proves
from ..proofs.methods.totp import KEY as TOTP
from ..proofs.security_info import SecurityInfo
from ..proofs.verification import Sent, check_code, check_totp, send_code
from ..registration.policy import is_admin
from ..reset import accounts, flows
from ..security import audit
from ..security.budgets import spend
from ..security.crypto import app_secret
from ..security.guards import guard_key

PURPOSE = "helpdesk"  # codes issued here prove nothing to the reset flow, and the reverse
EVENT_LOOKUP = "helpdesk.lookup"
EVENT_CODE_SENT = "helpdesk.code_sent"
EVENT_CHECK = "helpdesk.check"
EVENT_RESET = "helpdesk.reset"
EVENT_UNLOCK = "helpdesk.unlock"
NOT_ELIGIBLE = "not_eligible"  # link mode: the person may not use the reset flow (scope, methods)
LINK_TEMPLATE = "helpdesk-link"
NOT_FOUND = "not_found"
ADMINISTRATOR = "administrator"
OWN_ACCOUNT = "own_account"
RATE_LIMITED = "rate_limited"
MAX_QUERY_CHARS = 100
# no look-alikes (0/O, 1/l/I): the agent reads it out on the phone
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_LENGTH = 4, 4
GENERATION_TRIES = 5


class Refused(errors.Refused):
    """The agent may not do this for this person now; `reason` is what the page and the trail say."""


@dataclass(frozen=True)
class Option:
    """One way the caller can be checked: `key` is what the form posts (never the address)."""

    key: str
    kind: str
    masked: str

    @property
    def label(self) -> str:
        return REGISTRY[self.kind].label


@dataclass(frozen=True)
class Person:
    user: DirectoryUser
    info: SecurityInfo
    options: tuple[Option, ...]


class Written(enum.Enum):
    DONE = "done"
    LINK_SENT = "link_sent"  # a one-time link into the reset flow was mailed to the person
    PARTLY = "partly"  # the password was set; the lockout stays, or no change is required at sign-in
    UNKNOWN = "unknown"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    outcome: Written
    temporary_password: str | None = None  # shown once to the agent, never stored or logged
    message: str | None = None


@contextmanager
def _step(transaction: AbstractContextManager[Session]) -> Iterator[Session]:
    """A step's transaction that is committed when the step is Refused, so the refusal's audit row
    stays on record, then the refusal goes on. Nothing else a refused step did matters: budgets
    live outside the store, and a code the outbox could not take was never sent (the next one voids it)."""
    refused: Refused | None = None
    with transaction as db:
        try:
            yield db
        except Refused as error:
            refused = error
    if refused is not None:
        raise refused


def _within(agent: str, scope: str, per_hour: int) -> bool:
    return spend([(f"helpdesk-{scope}", agent.casefold(), f"{per_hour}/hour")])


def _record(db: Session, event: str, outcome: str, agent: str, person: str | None, *,
            reason: str | None = None, **details: audit.DetailValue) -> None:
    audit.record(db, event, outcome, username=person, reason=reason, details={"agent": agent, **details})


def look_up(c: Collaborators, agent: str, query: str) -> Person:
    """The person named by `query` (login or email), with their methods masked. Refused names why not:
    not found, an administrator's or the agent's own account, or the agent's lookups are used up.
    Raises DirectoryUnavailable."""
    with _step(c.store.transaction()) as db:
        if not _within(agent, "lookup", c.settings.helpdesk.lookups_per_hour):
            _record(db, EVENT_LOOKUP, audit.REFUSED, agent, None, reason=RATE_LIMITED)
            raise Refused(RATE_LIMITED)
        user = c.directory.find_user(query.strip())
        if user is None:
            _record(db, EVENT_LOOKUP, audit.FAILURE, agent, None, reason=NOT_FOUND, query=query[:MAX_QUERY_CHARS])
            raise Refused(NOT_FOUND)
        person = _person(c, db, agent, user, EVENT_LOOKUP)
        _record(db, EVENT_LOOKUP, audit.SUCCESS, agent, user.login, methods=len(person.options))
        return person


def _reload(c: Collaborators, db: Session, agent: str, directory_id: str, event: str) -> Person:
    """The person again (current state and methods) before each later step; Refused as `look_up`."""
    user = c.directory.user_by_id(directory_id)
    if user is None:
        _record(db, event, audit.FAILURE, agent, None, reason=NOT_FOUND)
        raise Refused(NOT_FOUND)
    return _person(c, db, agent, user, event)


def current(c: Collaborators, agent: str, directory_id: str) -> Person:
    """The person being handled, read again for the desk page; Refused as `look_up`."""
    with _step(c.store.transaction()) as db:
        return _reload(c, db, agent, directory_id, EVENT_LOOKUP)


def _person(c: Collaborators, db: Session, agent: str, user: DirectoryUser, event: str) -> Person:
    reason = _refusal(c, agent, user)
    if reason is not None:
        _record(db, event, audit.REFUSED, agent, user.login, reason=reason)
        raise Refused(reason)
    registration = c.settings.registration
    info = security_info.load(db, user, registration.directory_methods, registration.phone)
    return Person(user, info, _options(c, info))


def _refusal(c: Collaborators, agent: str, user: DirectoryUser) -> str | None:
    """Administrators (the registration policy's admin groups, [admin] groups, the protected
    accounts) are for IT, in person; nobody handles their own account here."""
    if user.protected or is_admin(c.settings, user.groups) or is_member(c.settings.admin, user.groups):
        return ADMINISTRATOR
    if user.known_as(agent):
        return OWN_ACCOUNT
    return None


def _options(c: Collaborators, info: SecurityInfo) -> tuple[Option, ...]:
    """Every destination a code can go to now, then the authenticator app if one is enrolled."""
    found = [Option(d.key, d.kind, d.masked) for d in info.destinations if REGISTRY[d.kind].available(c.settings)]
    if info.has_totp:
        found.append(Option(TOTP, TOTP, ""))
    return tuple(found)


def option(person: Person, key: str) -> Option:
    chosen = next((o for o in person.options if o.key == key), None)
    if chosen is None:
        raise Refused("no_such_method")
    return chosen


def send(c: Collaborators, agent: str, directory_id: str, key: str, ip: str | None) -> Option:
    """Send a fresh code to the person's destination `key` (nothing is sent for the app: the
    caller reads its current code). Refused when the agent's or the person's budget is used up."""
    with _step(c.store.transaction()) as db:
        person = _reload(c, db, agent, directory_id, EVENT_CODE_SENT)
        chosen = option(person, key)
        if REGISTRY[chosen.kind].proves is not Proves.SENT_CODE:
            return chosen
        if not _within(agent, "code", c.settings.helpdesk.codes_per_hour):
            _record(db, EVENT_CODE_SENT, audit.REFUSED, agent, person.user.login, reason=RATE_LIMITED)
            raise Refused(RATE_LIMITED)
        destination = person.info.destination(key)
        assert destination is not None  # an option is one of the person's destinations
        sent = send_code(db, c.codes, user=person.user, destination=destination, purpose=PURPOSE, ip=ip)
        ok = sent is Sent.SENT
        _record(db, EVENT_CODE_SENT, audit.SUCCESS if ok else audit.FAILURE, agent, person.user.login,
                reason=None if ok else sent.value, method=chosen.kind)
        if not ok:
            raise Refused(RATE_LIMITED if sent is Sent.THROTTLED else sent.value)
        return chosen


def check(c: Collaborators, agent: str, directory_id: str, key: str, typed: str) -> CodeCheck:
    """Whether `typed` is the code sent to `key` (or the app's current code): counted before it is
    compared, so a wrong code is tried at most [codes] max_attempts times."""
    with _step(c.store.transaction()) as db:
        person = _reload(c, db, agent, directory_id, EVENT_CHECK)
        chosen = option(person, key)
        if chosen.kind == TOTP:
            result = CodeCheck.VALID if check_totp(db, c.settings.codes, user=person.user, typed=typed,
                                                   purpose=PURPOSE) else CodeCheck.WRONG
        else:
            destination = person.info.destination(key)
            assert destination is not None
            result = check_code(db, c.codes, user=person.user, destination=destination, purpose=PURPOSE, typed=typed)
        valid = result is CodeCheck.VALID
        _record(db, EVENT_CHECK, audit.SUCCESS if valid else audit.FAILURE, agent, person.user.login,
                reason=None if valid else result.value, method=chosen.kind)
        return result


def temporary_password(c: Collaborators, user: DirectoryUser) -> str:
    """A random password the portal's rules accept, in groups an agent can read out."""
    for _try in range(GENERATION_TRIES):
        groups = ["".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS)]
        candidate = "-".join(groups) + secrets.choice("23456789")
        if not c.password_rules.check(candidate, personal=personal_words(user)):
            return candidate
    raise Refused("no_password")


def reset(c: Collaborators, agent: str, directory_id: str) -> Result:
    """[helpdesk] reset: mail a one-time link into the reset flow, or set a temporary password that
    must be changed at next sign-in (and clear a lockout)."""
    if c.settings.helpdesk.reset == RESET_LINK:
        return _mail_link(c, agent, directory_id)
    return _write(c, agent, directory_id, EVENT_RESET)


def _mail_link(c: Collaborators, agent: str, directory_id: str) -> Result:
    """A reset flow verified already (single use, [reset] flow_minutes long), its link mailed to the
    person's addresses (built from base_url); the person then writes the password in the reset
    flow, which puts the attempt on record first as always. Nothing is written here."""
    with _step(c.store.transaction()) as db:
        person = _reload(c, db, agent, directory_id, EVENT_RESET)
        if not _within(agent, "reset", c.settings.helpdesk.resets_per_hour):
            _record(db, EVENT_RESET, audit.REFUSED, agent, person.user.login, reason=RATE_LIMITED)
            raise Refused(RATE_LIMITED)
        if accounts.reload(c, db, directory_id, None) is None:
            _record(db, EVENT_RESET, audit.REFUSED, agent, person.user.login, reason=NOT_ELIGIBLE)
            raise Refused(NOT_ELIGIBLE)
        minutes = c.settings.reset.flow_minutes
        binding = flows.start_verified(
            db, account_key=directory_id, login=person.user.login, method=PURPOSE, lifetime=timedelta(minutes=minutes),
            guard_key=guard_key(app_secret(), directory_id=directory_id, identifier=""))
        url = external_url("reset.claim_link", base_url=c.settings.base_url, flow_id=binding.flow_id, key=binding.key)
        to = recipients(person.user, person.info)
        for address in to:
            queue_mail(db, LINK_TEMPLATE, address, purpose=LINK_TEMPLATE, url=url, minutes=minutes,
                       login=person.user.login)
        _record(db, EVENT_RESET, audit.SUCCESS, agent, person.user.login, mode=RESET_LINK, recipients=len(to))
    return Result(Written.LINK_SENT)


def unlock(c: Collaborators, agent: str, directory_id: str) -> Result:
    return _write(c, agent, directory_id, EVENT_UNLOCK)


def _write(c: Collaborators, agent: str, directory_id: str, event: str) -> Result:
    """The attempt committed first (writes.py), then the directory, then its answer on record and the
    person told. Refused before anything is written (budget, account no longer allowed);
    AttemptNotRecorded when the store failed first."""
    with _step(writes.before_write(c.store)) as db:
        person = _reload(c, db, agent, directory_id, event)
        if not _within(agent, "reset", c.settings.helpdesk.resets_per_hour):
            _record(db, event, audit.REFUSED, agent, person.user.login, reason=RATE_LIMITED)
            raise Refused(RATE_LIMITED)
        password = temporary_password(c, person.user) if event == EVENT_RESET else None
        attempt = writes.attempt(db, event, username=person.user.login, details={"agent": agent})
    outcome, error = _send(c, person.user, password)
    with writes.after_write(c.store, attempt) as db:
        attempt.finish(db, _AUDIT[outcome], reason=error.code if error else None, details={"agent": agent})
        _tell(c, db, person, password, outcome)
    shown = password if outcome in (Written.DONE, Written.PARTLY, Written.UNKNOWN) else None
    return Result(outcome, temporary_password=shown, message=str(error.message) if error else None)


_AUDIT = {Written.DONE: audit.SUCCESS, Written.PARTLY: audit.SUCCESS, Written.UNKNOWN: audit.UNKNOWN,
          Written.FAILED: audit.FAILURE}


def _send(c: Collaborators, user: DirectoryUser, password: str | None) -> tuple[Written, DirectoryError | None]:
    try:
        if password is None:
            c.directory.unlock(user)
        else:
            c.directory.reset_password(user, password, unlock=True, must_change=True)
    except (StillLockedAfterReset, MustChangeNotSet) as error:
        return Written.PARTLY, error
    except OutcomeUnknown as error:
        return Written.UNKNOWN, error
    except DirectoryError as error:
        return Written.FAILED, error
    return Written.DONE, None


def _tell(c: Collaborators, db: Session, person: Person, password: str | None, outcome: Written) -> None:
    """The person hears of it by mail (and subscribers by webhook); a new password ends their sessions."""
    if outcome is Written.FAILED:
        return
    if password is not None:
        writes.password_written(db, person.user, confirmed=outcome is not Written.UNKNOWN)
    if outcome is Written.UNKNOWN:
        return  # password_written told them it may have changed
    if password is None:
        password_notices.helpdesk_unlocked(db, person.user, info=person.info)
        webhooks.emit(db, c.outbox, webhooks.ACCOUNT_UNLOCKED, person.user)
    else:
        password_notices.helpdesk_reset(db, person.user, info=person.info)
        webhooks.emit(db, c.outbox, webhooks.PASSWORD_RESET, person.user)
