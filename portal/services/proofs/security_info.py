"""A person's security info: what they registered here plus what the directory already holds.

Registrations are keyed by the account's directory id (entryUUID / objectGUID), which survives
renames and is the same whether the person arrives signed in (OIDC), signed out (reset by login
name or email) or in an IT import by login name. Directory values (mobile, alternate mail) count
as methods when settings say so; people see them but change them through IT, not here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ... import clock
from ...adapters.directory.model import DirectoryUser
from ...settings.registration import PhoneSettings
from ...store.security_info import AuthMethod, SecurityAnswer, SecurityProfile
from .methods import DESTINATIONS, REGISTRY, InvalidEntry, Registers
from .methods.email import same_address
from .methods.passkey import KEY as PASSKEY
from .methods.questions import KEY as QUESTIONS
from .methods.totp import KEY as TOTP

FROM_USER, FROM_IMPORT, FROM_DIRECTORY = "user", "import", "directory"
# methods registered as one stored item (an app's secret, a passkey's credential): "enrolled"
ENROLLED = frozenset(key for key, m in REGISTRY.items() if m.registers in (Registers.SECRET, Registers.CREDENTIAL))


@dataclass(frozen=True)
class Destination:
    """Somewhere a code can be sent: a registered or directory email address or mobile number."""

    kind: str
    address: str
    source: str

    @property
    def masked(self) -> str:
        return REGISTRY[self.kind].masked(self.address)

    @property
    def key(self) -> str:
        """What a form posts to choose this destination (never the address itself)."""
        return f"{self.kind}-{self.source}"


@dataclass(frozen=True)
class SecurityInfo:
    directory_id: str
    login: str
    destinations: tuple[Destination, ...]
    enrolled: frozenset[str]  # methods enrolled as one item (an authenticator app, a passkey)
    answered: tuple[str, ...]  # question keys with a stored answer
    confirmed_at: datetime | None
    # when IT last asked this person to re-register (admin action); None = never
    reregistration_requested_at: datetime | None = None

    def destination(self, key: str) -> Destination | None:
        return next((d for d in self.destinations if d.key == key), None)

    def registered(self, kind: str) -> Destination | None:
        """The person's own (or imported) destination of this kind, not the directory's."""
        return next((d for d in self.destinations if d.kind == kind and d.source != FROM_DIRECTORY), None)

    def has_own(self, kind: str) -> bool:
        """Whether the person (or an import by IT) registered `kind` here; directory values do not count."""
        registers = REGISTRY[kind].registers
        if registers is Registers.DESTINATION:
            return self.registered(kind) is not None
        if registers is Registers.ANSWERS:
            return bool(self.answered)
        return kind in self.enrolled

    @property
    def has_totp(self) -> bool:
        return TOTP in self.enrolled

    @property
    def has_passkey(self) -> bool:
        return PASSKEY in self.enrolled

    @property
    def kinds(self) -> set[str]:
        """Kinds with something registered (questions: any answer; the policy counts them)."""
        kinds = {d.kind for d in self.destinations} | self.enrolled
        if self.answered:
            kinds.add(QUESTIONS)
        return kinds


def load(db: Session, user: DirectoryUser, directory_methods: list[str], phone: PhoneSettings) -> SecurityInfo:
    return from_profile(find_profile(db, user.directory_id), user, directory_methods, phone)


def from_profile(profile: SecurityProfile | None, user: DirectoryUser, directory_methods: list[str],
                 phone: PhoneSettings) -> SecurityInfo:
    """The info of `user` from an already loaded profile (reports load every profile at once)."""
    methods = profile.methods if profile else []
    destinations = [Destination(m.kind, m.destination, m.source) for m in methods
                    if m.kind in DESTINATIONS and m.destination]
    destinations += [d for d in directory_destinations(user, directory_methods, phone)
                     if not any(same_address(d.address, mine.address) for mine in destinations)]
    return SecurityInfo(
        directory_id=user.directory_id, login=user.login, destinations=tuple(destinations),
        enrolled=frozenset(m.kind for m in methods if m.kind in ENROLLED),
        answered=tuple(a.question_key for a in profile.answers) if profile else (),
        confirmed_at=_utc(profile.confirmed_at if profile else None),
        reregistration_requested_at=_utc(profile.reregistration_requested_at if profile else None),
    )


def _utc(moment: datetime | None) -> datetime | None:
    return clock.as_utc(moment) if moment is not None else None


def directory_destinations(user: DirectoryUser, directory_methods: list[str],
                           phone: PhoneSettings) -> list[Destination]:
    """Usable directory values only: a malformed number in the directory is not a method."""
    found = []
    for kind, method in DESTINATIONS.items():
        raw = method.directory_value(user) if kind in directory_methods else None
        if not raw:
            continue
        try:
            found.append(Destination(kind, method.normalize(raw, phone), FROM_DIRECTORY))
        except InvalidEntry:
            continue
    return found


def normalize_destination(kind: str, text: str, phone: PhoneSettings) -> str:
    """The stored form of an email address or mobile number; InvalidEntry says what is wrong."""
    return DESTINATIONS[kind].normalize(text, phone)


def find_profile(db: Session, directory_id: str) -> SecurityProfile | None:
    """The profile with its methods and answers, in one query: every reset step reads all three
    (one query instead of three saves about 0.5 ms of CPU each time, measured), and an unknown account's
    decoy lookup is then the same single query as a real one's."""
    return db.scalars(select(SecurityProfile).options(joinedload(SecurityProfile.methods),
                                                      joinedload(SecurityProfile.answers))
                      .where(SecurityProfile.directory_id == directory_id)).unique().one_or_none()


def profile_for(db: Session, user: DirectoryUser) -> SecurityProfile:
    """The person's profile, created on first registration; the login is refreshed (renames)."""
    now = clock.utcnow()
    profile = find_profile(db, user.directory_id)
    if profile is None:
        profile = SecurityProfile(directory_id=user.directory_id, username=user.login, created_at=now,
                                  updated_at=now)
        db.add(profile)
    profile.username = user.login
    return profile


def method_of(profile: SecurityProfile, kind: str) -> AuthMethod | None:
    return next((m for m in profile.methods if m.kind == kind), None)


def save_method(db: Session, user: DirectoryUser, kind: str, *, destination: str | None = None,
                sealed_secret: str | None = None, last_used_step: int | None = None,
                source: str = FROM_USER) -> AuthMethod:
    """Add or replace the person's method of `kind`. The person saving it counts as confirming
    their info; an import by IT does not (see registration_policy.status)."""
    now = clock.utcnow()
    profile = profile_for(db, user)
    method = method_of(profile, kind)
    if method is None:
        method = AuthMethod(kind=kind, created_at=now)
        profile.methods.append(method)
    method.destination, method.sealed_secret = destination, sealed_secret
    method.last_used_step, method.source, method.updated_at = last_used_step, source, now
    _touch(profile, now, confirmed=source == FROM_USER)
    db.flush()
    return method


def save_answers(db: Session, user: DirectoryUser, hashes: dict[str, str]) -> None:
    """Replace the whole set of answers (a set is registered and changed as one method)."""
    now = clock.utcnow()
    profile = profile_for(db, user)
    profile.answers.clear()
    db.flush()
    profile.answers.extend(SecurityAnswer(question_key=key, answer_hash=value, created_at=now)
                           for key, value in hashes.items())
    _touch(profile, now, confirmed=True)
    db.flush()


def remove_method(db: Session, user: DirectoryUser, kind: str) -> bool:
    """Remove the person's own method of `kind` (questions: all answers); False if there was none."""
    profile = find_profile(db, user.directory_id)
    if profile is None:
        return False
    if REGISTRY[kind].registers is Registers.ANSWERS:
        if not profile.answers:
            return False
        profile.answers.clear()
    else:
        method = method_of(profile, kind)
        if method is None:
            return False
        profile.methods.remove(method)
    _touch(profile, clock.utcnow(), confirmed=False)
    db.flush()
    return True


def confirm(db: Session, user: DirectoryUser) -> None:
    """The person says their info is still correct (re-confirmation)."""
    _touch(profile_for(db, user), clock.utcnow(), confirmed=True)
    db.flush()


def request_reregistration(db: Session, user: DirectoryUser, now: datetime) -> None:
    """IT asks the person to re-register: they must confirm after `now` (registration_policy.status)."""
    profile = profile_for(db, user)
    profile.reregistration_requested_at = now
    _fresh_allowance(profile)
    db.flush()


def _touch(profile: SecurityProfile, now: datetime, *, confirmed: bool) -> None:
    profile.updated_at = now
    if confirmed:
        profile.confirmed_at = now
        _fresh_allowance(profile)


def _fresh_allowance(profile: SecurityProfile) -> None:
    """The "not now" allowance (registration/snooze.py) starts afresh with each new request."""
    profile.snoozes, profile.first_snoozed_at = 0, None
