"""The steps of /register, one call each: see your methods, prove it is you before a change (a code
to a method on file, the app's code, or your passkey), then add, change or remove a method.

Each step opens its own transaction, so what it records (the change, its audit event, the notice
to the person) is committed together or not at all. Steps take the signed-in person as the
directory found them (`Person`) and plain values from the form; what the browser's session holds
between two steps (the address waiting for its code, the sealed secret being enrolled) stays the
blueprint's. A method this person may not register raises NotOffered (the page is a 404).

Every change is audited and announced by mail to the account's address and the old alternate
one; a new address is only saved once the code sent THERE is typed back, an app once it shows a
valid code, a passkey once the browser's attestation for the challenge this session was given
checks out.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ...adapters.directory.model import DirectoryUser
from ..container import Collaborators
from ..messaging import languages, notifications, webhooks
from ..campaigns import population
from ..proofs import security_info
from ..proofs.codes import CodeCheck
from ..proofs.methods import DESTINATIONS, REGISTRY, InvalidEntry, passkey, questions, totp
from ..proofs.security_info import FROM_DIRECTORY, FROM_USER, Destination, SecurityInfo
from ..proofs.verification import (
    Sent,
    check_code,
    check_passkey,
    check_totp,
    passkey_sealer,
    passkey_user_handle,
    send_code,
    stored_passkey,
    totp_sealer,
)
from ..security import audit
from .policy import Policy, Status, policy_for, status

STEP_UP_PURPOSE = "step-up"
APP_PURPOSE = "register-totp"
PASSKEY_PURPOSE = "register-passkey"


class NotOffered(Exception):
    """The method is not one this person may register (not available, or not for administrators)."""


@dataclass(frozen=True)
class Person:
    """The signed-in person: their directory account and every group they are in (directory and
    provider), which decide their policy."""

    user: DirectoryUser
    groups: frozenset[str]


@dataclass(frozen=True)
class Row:
    """One method on the overview page."""

    kind: str
    label: str
    registers: str             # how it is set up (methods.Registers value): which page does it
    registered: bool           # the person's own (or imported) value; the directory's does not count
    value: str | None          # the registered value, masked
    directory_value: str | None  # the directory's value, masked, when there is one
    counted: bool


@dataclass(frozen=True)
class Standing:
    """The person's policy, security info and status, read in one transaction."""

    policy: Policy
    info: SecurityInfo
    status: Status

    @property
    def rows(self) -> list[Row]:
        counted = self.policy.counted(self.info)
        return [self._row(kind, kind in counted) for kind in self.policy.methods]

    def _row(self, kind: str, counted: bool) -> Row:
        mine = self.info.registered(kind)
        directory = next((d for d in self.info.destinations if d.kind == kind and d.source == FROM_DIRECTORY),
                         None)
        method = REGISTRY[kind]
        return Row(kind=kind, label=method.label, registers=method.registers.value,
                   registered=self.info.has_own(kind), value=mine.masked if mine else None,
                   directory_value=directory.masked if directory else None, counted=counted)


@dataclass(frozen=True)
class Change:
    """A method was added, changed or removed; `compliant`: the person's info now meets the policy."""

    kind: str
    action: str  # notifications.ADDED, CHANGED or REMOVED
    compliant: bool

    @property
    def named(self) -> str:
        return REGISTRY[self.kind].named


@dataclass(frozen=True)
class Removal:
    """`change`: the method was removed; `confirm_last`: it was not, it is the person's last method
    and they must confirm first; neither: there was nothing to remove."""

    change: Change | None
    confirm_last: bool = False


@dataclass(frozen=True)
class Confirmation:
    confirmed: bool
    required: int  # methods the policy asks for (what the person is told when they have too few)


@dataclass(frozen=True)
class CodeAnswer:
    """A code typed back: where it was sent (None: no such destination) and how it compared."""

    destination: Destination | None
    result: CodeCheck | None = None
    change: Change | None = None


@dataclass(frozen=True)
class AddressSent:
    """A new address or number typed: the code sent to it, or why it cannot be used."""

    current: Destination | None  # what is registered now
    address: str | None = None
    sent: Sent | None = None
    error: str | None = None


@dataclass(frozen=True)
class AppCheck:
    """The step-up by authenticator app: whether it passed, and the info the page shows otherwise."""

    passed: bool
    info: SecurityInfo


@dataclass(frozen=True)
class Enrolment:
    """An authenticator app being set up: the secret sealed for the session, and shown as QR and key."""

    sealed: str
    qr: str
    key: str  # the secret in groups of four, for typing in
    uri: str  # the otpauth:// link a phone opens in its authenticator app
    change: Change | None = None  # set once the app showed a valid code and was saved


@dataclass(frozen=True)
class QuestionsAnswered:
    offered: list[questions.Question]
    error: str | None = None
    change: Change | None = None


# ---------- reading ----------

def standing(c: Collaborators, person: Person, offering: str | None = None) -> Standing:
    """The person's standing; NotOffered when `offering` names a method they may not register."""
    with c.store.transaction() as db:
        return _standing(c, db, person, offering)


def _standing(c: Collaborators, db: Session, person: Person, offering: str | None = None) -> Standing:
    registration = c.settings.registration
    policy = policy_for(c.settings, person.groups)
    if offering is not None and offering not in policy.methods:
        raise NotOffered(offering)
    info = security_info.load(db, person.user, registration.directory_methods, registration.phone)
    return Standing(policy, info, status(c.settings, policy, info, c.clock.utcnow()))


def confirm(c: Collaborators, person: Person) -> Confirmation:
    """"These are still correct": recorded only when the person has enough methods."""
    with c.store.transaction() as db:
        now = _standing(c, db, person)
        if not now.policy.satisfied_by(now.info):
            return Confirmation(False, now.policy.required)
        security_info.confirm(db, person.user)
        languages.remember(db, person.user)
        population.record_person(db, c.settings, person.user)
        audit.record(db, "registration.confirmed", audit.SUCCESS, username=person.user.login)
        return Confirmation(True, now.policy.required)


def _changed(c: Collaborators, db: Session, person: Person, before: SecurityInfo, kind: str,
             action: str) -> Change:
    """After any change: audit it, tell the person, keep the reports' standing current, and say
    whether their info is now complete."""
    population.record_person(db, c.settings, person.user)
    languages.remember(db, person.user)
    audit.record(db, f"registration.method_{action}", audit.SUCCESS, username=person.user.login,
                 details={"method": kind})
    notifications.security_info_changed(db, user=person.user, before=before, method=kind, action=action)
    webhooks.emit(db, c.outbox, webhooks.REGISTRATION_CHANGED, person.user, method=kind, action=action)
    return Change(kind, action, _standing(c, db, person).status.compliant)


# ---------- proving who you are before a change ----------

def send_step_up_code(c: Collaborators, person: Person, destination_key: str, ip: str | None) -> Sent | None:
    """A code to one of the person's destinations (chosen by key); None when they have no such one."""
    with c.store.transaction() as db:
        destination = _standing(c, db, person).info.destination(destination_key)
        if destination is None:
            return None
        return send_code(db, c.codes, user=person.user, destination=destination, purpose=STEP_UP_PURPOSE, ip=ip)


def check_step_up_code(c: Collaborators, person: Person, destination_key: str, typed: str | None) -> CodeAnswer:
    """The step-up code typed back; a code page without a result when `typed` is None (GET)."""
    with c.store.transaction() as db:
        destination = _standing(c, db, person).info.destination(destination_key)
        if destination is None or typed is None:
            return CodeAnswer(destination)
        return CodeAnswer(destination, check_code(db, c.codes, user=person.user, destination=destination,
                                                  purpose=STEP_UP_PURPOSE, typed=typed))


def check_step_up_app(c: Collaborators, person: Person, typed: str) -> AppCheck:
    with c.store.transaction() as db:
        info = _standing(c, db, person).info
        passed = check_totp(db, c.settings.codes, user=person.user, typed=typed, purpose=STEP_UP_PURPOSE)
        return AppCheck(passed, info)


def step_up_passkey(rp: passkey.RelyingParty) -> passkey.Challenge:
    """Options to prove it is you with your passkey (the blueprint keeps the challenge, once)."""
    return passkey.authentication_challenge(rp, passkey.new_challenge())


def check_step_up_passkey(c: Collaborators, person: Person, rp: passkey.RelyingParty, response: str,
                          challenge: bytes | None) -> AppCheck:
    """The person's own passkey signed `challenge` (None: none was given, or it expired)."""
    with c.store.transaction() as db:
        info = _standing(c, db, person).info
        passed = check_passkey(db, c.settings.codes, user=person.user, rp=rp, response=response,
                               challenge=challenge or b"", purpose=STEP_UP_PURPOSE)
        return AppCheck(passed, info)


# ---------- alternate email and mobile phone ----------

def _address_purpose(kind: str) -> str:
    return f"register-{kind}"


def send_address_code(c: Collaborators, person: Person, kind: str, typed: str, ip: str | None) -> AddressSent:
    """Check a new address or number and send a code there; it is saved once the code comes back."""
    with c.store.transaction() as db:
        current = _standing(c, db, person, kind).info.registered(kind)
        try:
            address = DESTINATIONS[kind].normalize(typed, c.settings.registration.phone)
        except InvalidEntry as problem:
            return AddressSent(current, error=problem.message)
        sent = send_code(db, c.codes, user=person.user, destination=Destination(kind, address, FROM_USER),
                         purpose=_address_purpose(kind), ip=ip)
        return AddressSent(current, address, sent)


def confirm_address(c: Collaborators, person: Person, kind: str, address: str | None,
                    typed: str | None) -> CodeAnswer:
    """The code sent to a new `address`, typed back: the address is saved when it is right. No
    destination when no address is waiting; no result when `typed` is None (the page, GET)."""
    with c.store.transaction() as db:
        before = _standing(c, db, person, kind).info
        if address is None:
            return CodeAnswer(None)
        target = Destination(kind, address, FROM_USER)
        if typed is None:
            return CodeAnswer(target)
        result = check_code(db, c.codes, user=person.user, destination=target, purpose=_address_purpose(kind),
                            typed=typed)
        if result is not CodeCheck.VALID:
            return CodeAnswer(target, result)
        action = notifications.CHANGED if before.registered(kind) else notifications.ADDED
        security_info.save_method(db, person.user, kind, destination=address)
        return CodeAnswer(target, result, _changed(c, db, person, before, kind, action))


# ---------- authenticator app ----------

def start_app(c: Collaborators, person: Person, issuer: str, sealed: str | None = None) -> Enrolment:
    """The app being enrolled: the secret this session already shows (`sealed`), else a new one.

    The key stays the same until it is confirmed or cancelled: a reload, or coming back from the
    app, must not silently make useless the key the person has just scanned."""
    standing(c, person, totp.KEY)
    secret = totp_sealer().unseal(sealed) if sealed else totp.new_secret()
    return _enrolment(person, secret, sealed or totp_sealer().seal(secret), issuer)


def _enrolment(person: Person, secret: str, sealed: str, issuer: str, change: Change | None = None) -> Enrolment:
    uri = totp.provisioning_uri(secret, person.user.login, issuer)
    key = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return Enrolment(sealed, totp.qr_svg_data_uri(uri), key, uri, change)


def confirm_app(c: Collaborators, person: Person, sealed: str, typed: str, issuer: str) -> Enrolment:
    """Save the app being enrolled once it shows a valid code; else the same secret again."""
    with c.store.transaction() as db:
        before = _standing(c, db, person, totp.KEY).info
        secret = totp_sealer().unseal(sealed)
        step = totp.matching_step(secret, typed)
        if step is None:
            audit.record(db, "totp.failed", audit.FAILURE, username=person.user.login, reason="wrong",
                         details={"purpose": APP_PURPOSE})
            return _enrolment(person, secret, sealed, issuer)
        action = notifications.CHANGED if before.has_totp else notifications.ADDED
        security_info.save_method(db, person.user, totp.KEY, sealed_secret=totp_sealer().seal(secret),
                                  last_used_step=step)
        return _enrolment(person, secret, sealed, issuer, _changed(c, db, person, before, totp.KEY, action))


# ---------- passkey ----------

def start_passkey(c: Collaborators, person: Person, rp: passkey.RelyingParty) -> passkey.Challenge:
    """Options for the browser to create a passkey for this person on `rp` (the challenge inside
    is the blueprint's to keep, once)."""
    with c.store.transaction() as db:
        _standing(c, db, person, passkey.KEY)
        found = stored_passkey(db, person.user)
        return passkey.registration_challenge(rp, user_handle=passkey_user_handle(person.user),
                                              login=person.user.login,
                                              display_name=person.user.display_name or person.user.login,
                                              existing=found[1] if found else None)


def save_passkey(c: Collaborators, person: Person, rp: passkey.RelyingParty, response: str,
                 challenge: bytes | None) -> Change | None:
    """Save the passkey the browser created for `challenge` (None: there was none, or it expired);
    None when the response does not prove one was made (audited). A new passkey replaces the old."""
    with c.store.transaction() as db:
        before = _standing(c, db, person, passkey.KEY).info
        try:
            if challenge is None:
                raise passkey.Refused("no_challenge")
            credential, sign_count = passkey.registered(rp, response, challenge)
        except passkey.Refused as refused:
            audit.record(db, "passkey.failed", audit.FAILURE, username=person.user.login, reason=refused.reason,
                         details={"purpose": PASSKEY_PURPOSE})
            return None
        action = notifications.CHANGED if before.has_passkey else notifications.ADDED
        security_info.save_method(db, person.user, passkey.KEY, sealed_secret=passkey_sealer().seal(
            credential.to_json()), last_used_step=sign_count)
        return _changed(c, db, person, before, passkey.KEY, action)


# ---------- security questions ----------

def question_form(c: Collaborators, person: Person) -> list[questions.Question]:
    """The questions offered now (administrators are never offered questions: NotOffered)."""
    standing(c, person, questions.KEY)
    return questions.catalogue(c.settings.registration.questions)


def save_questions(c: Collaborators, person: Person, chosen: Mapping[str, str]) -> QuestionsAnswered:
    """Replace the person's answers with `chosen` (question key -> answer) when they are good enough."""
    settings = c.settings.registration.questions
    with c.store.transaction() as db:
        before = _standing(c, db, person, questions.KEY).info
        offered = questions.catalogue(settings)
        try:
            normalized = questions.validate(chosen, login=person.user.login, settings=settings)
        except InvalidEntry as problem:
            return QuestionsAnswered(offered, error=problem.message)
        action = notifications.CHANGED if before.answered else notifications.ADDED
        security_info.save_answers(db, person.user, {key: questions.hash_answer(answer)
                                                     for key, answer in normalized.items()})
        return QuestionsAnswered(offered, change=_changed(c, db, person, before, questions.KEY, action))


# ---------- removing ----------

def remove(c: Collaborators, person: Person, kind: str, *, confirmed: bool = False) -> Removal:
    """Remove the person's own method of `kind`. Their last one only once they `confirmed`:
    without any method they can no longer reset their password themselves."""
    with c.store.transaction() as db:
        now = _standing(c, db, person)
        before = now.info
        if not confirmed and _last(now, kind):
            return Removal(None, confirm_last=True)
        if not security_info.remove_method(db, person.user, kind):
            return Removal(None)
        return Removal(_changed(c, db, person, before, kind, notifications.REMOVED))


def _last(now: Standing, kind: str) -> bool:
    """Whether the person's own `kind` is the last method that counts: without it nothing would
    let them reset their password themselves (a value from the directory stays and still counts)."""
    counted = now.policy.counted(now.info)
    from_directory = {d.kind for d in now.info.destinations if d.source == FROM_DIRECTORY}
    return kind in counted and now.info.has_own(kind) and not [
        k for k in counted if k != kind or k in from_directory]
