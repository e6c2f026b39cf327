"""Prove a person is who they say with their registered methods; used by registration and reset.

Every function takes the account as a DirectoryUser found by the directory (never from what a
browser sent) and a destination chosen from the person's SecurityInfo, so a code only ever goes
to a registered or directory address. Every attempt is audited, and every kind of attempt has a
budget per account (and sending one per destination and per IP as well): [codes] settings, which
the code book carries, set them all. Helpers of a step: the caller's transaction is handed in.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.directory.model import DirectoryUser
from ...settings.registration import CodeSettings, QuestionSettings
from ..messaging.messages import queue_mail, queue_sms
from ..messaging.outbox import ChannelUnavailable
from ..security import audit
from ..security.budgets import spend
from ..security.crypto import InvalidToken, Sealer, app_secret, keyed_hash
from ...store import rows_changed
from ...store.security_info import AuthMethod
from .codes import CodeBook, CodeCheck
from .methods import DESTINATIONS, Channel, passkey, questions, totp
from .security_info import Destination, SecurityInfo, find_profile, method_of

TRY_WINDOW = "10 minutes"


class Sent(enum.Enum):
    SENT = "sent"
    THROTTLED = "throttled"
    UNAVAILABLE = "unavailable"  # no mail server / SMS gateway configured


def totp_sealer() -> Sealer:
    return Sealer(app_secret(), totp.SEAL_PURPOSE)


def passkey_sealer() -> Sealer:
    return Sealer(app_secret(), passkey.SEAL_PURPOSE)


def passkey_user_handle(user: DirectoryUser) -> bytes:
    """The WebAuthn user id of this account: stable, and nothing a device could tell anyone (a
    keyed hash of the directory id, never the login or the id itself)."""
    return bytes.fromhex(keyed_hash(app_secret(), "passkey-user", user.directory_id))


def stored_passkey(db: Session, user: DirectoryUser) -> tuple[AuthMethod, passkey.Credential] | None:
    """The person's passkey row and credential; None when they have none (or it cannot be read)."""
    profile = find_profile(db, user.directory_id)
    method = method_of(profile, passkey.KEY) if profile else None
    if method is None or not method.sealed_secret:
        return None
    try:
        return method, passkey.Credential.from_json(passkey_sealer().unseal(method.sealed_secret))
    except (InvalidToken, ValueError, KeyError):
        return None


def check_passkey(db: Session, limits: CodeSettings, *, user: DirectoryUser, rp: passkey.RelyingParty,
                  response: str, challenge: bytes, purpose: str) -> bool:
    """An assertion by the person's own passkey for `challenge`, its sign counter higher than the
    last one accepted (and, even if two requests race, each counter accepted once)."""
    reason = _passkey_failure(db, user, rp, response, challenge) if _tries_left("passkey-try", user, limits) \
        else "rate_limited"
    audit.record(db, "passkey.verified" if reason is None else "passkey.failed",
                 audit.SUCCESS if reason is None else audit.FAILURE, username=user.login, reason=reason,
                 details={"purpose": purpose})
    return reason is None


def _passkey_failure(db: Session, user: DirectoryUser, rp: passkey.RelyingParty, response: str,
                     challenge: bytes) -> str | None:
    found = stored_passkey(db, user)
    if found is None:
        return "not_registered"
    method, credential = found
    counter = method.last_used_step or 0
    try:
        new = passkey.asserted(rp, response, challenge, stored=credential, user_handle=passkey_user_handle(user),
                               sign_count=counter)
    except passkey.Refused as refused:
        return refused.reason
    same = AuthMethod.last_used_step.is_(None) if method.last_used_step is None \
        else AuthMethod.last_used_step == method.last_used_step
    moved = rows_changed(db, update(AuthMethod).where(AuthMethod.id == method.id, same).values(last_used_step=new))
    return None if moved == 1 else "sign_count"  # else a parallel assertion moved the counter first


def send_code(db: Session, book: CodeBook, *, user: DirectoryUser, destination: Destination, purpose: str,
              ip: str | None) -> Sent:
    """Queue a fresh code to `destination` (older codes for this purpose stop working)."""
    limits = book.settings
    budgets = [("code-account", user.directory_id, f"{limits.per_account_per_hour}/hour"),
               ("code-destination", keyed_hash(app_secret(), "budget-destination", destination.address),
                f"{limits.per_destination_per_hour}/hour")]
    if ip:
        budgets.append(("code-ip", ip, f"{limits.per_ip_per_hour}/hour"))
    details: dict[str, audit.DetailValue] = {"channel": destination.kind, "purpose": purpose,
                                             "source": destination.source}
    if not spend(budgets):
        audit.record(db, "code.sent", audit.REFUSED, username=user.login, reason="rate_limited", details=details)
        return Sent.THROTTLED
    code = book.issue(db, owner=user.directory_id, purpose=purpose, channel=destination.kind,
                      destination=destination.address)
    expires_at = clock.utcnow() + book.valid_for
    context: dict[str, Any] = {"code": code, "minutes": book.settings.valid_minutes, "login": user.login}
    try:
        if DESTINATIONS[destination.kind].channel is Channel.MAIL:
            queue_mail(db, "code", destination.address, purpose="code", expires_at=expires_at, **context)
        else:
            queue_sms(db, "code", destination.address, purpose="code", expires_at=expires_at, **context)
    except ChannelUnavailable:
        audit.record(db, "code.sent", audit.FAILURE, username=user.login, reason="channel_unavailable",
                     details=details)
        return Sent.UNAVAILABLE
    audit.record(db, "code.sent", audit.SUCCESS, username=user.login, details=details)
    return Sent.SENT


def check_code(db: Session, book: CodeBook, *, user: DirectoryUser, destination: Destination, purpose: str,
               typed: str) -> CodeCheck:
    result = book.check(db, owner=user.directory_id, purpose=purpose, destination=destination.address, typed=typed)
    valid = result is CodeCheck.VALID
    audit.record(db, "code.verified" if valid else "code.failed", audit.SUCCESS if valid else audit.FAILURE,
                 username=user.login, reason=None if valid else result.value,
                 details={"channel": destination.kind, "purpose": purpose})
    return result


def _tries_left(scope: str, user: DirectoryUser, limits: CodeSettings) -> bool:
    return spend([(scope, user.directory_id, f"{limits.max_attempts} per {TRY_WINDOW}")])


def check_totp(db: Session, limits: CodeSettings, *, user: DirectoryUser, typed: str, purpose: str) -> bool:
    """A current code from the person's authenticator app, each time step accepted once."""
    reason = _totp_failure(db, user, typed) if _tries_left("totp-try", user, limits) else "rate_limited"
    audit.record(db, "totp.verified" if reason is None else "totp.failed",
                 audit.SUCCESS if reason is None else audit.FAILURE, username=user.login, reason=reason,
                 details={"purpose": purpose})
    return reason is None


def _totp_failure(db: Session, user: DirectoryUser, typed: str) -> str | None:
    profile = find_profile(db, user.directory_id)
    method = method_of(profile, totp.KEY) if profile else None
    if method is None or not method.sealed_secret:
        return "not_registered"
    try:
        secret = totp_sealer().unseal(method.sealed_secret)
    except InvalidToken:
        return "secret_unreadable"
    step = totp.matching_step(secret, typed)
    if step is None:
        return "wrong"
    return None if totp.use_step(db, method.id, step) else "replayed"


def questions_to_ask(info: SecurityInfo, settings: QuestionSettings) -> list[questions.Question]:
    """`ask_count` of the person's answered questions that are still offered, in random order."""
    offered = {q.key: q for q in questions.catalogue(settings)}
    answered = [key for key in info.answered if key in offered]
    return [offered[key] for key in questions.pick(answered, settings.ask_count)]


def check_answers(db: Session, limits: CodeSettings, *, user: DirectoryUser, answers: Mapping[str, str],
                  purpose: str) -> bool:
    """All answers right; every one is checked (no early exit that timing could reveal)."""
    reason = _answers_failure(db, user, answers) if _tries_left("questions-try", user, limits) else "rate_limited"
    audit.record(db, "questions.verified" if reason is None else "questions.failed",
                 audit.SUCCESS if reason is None else audit.FAILURE, username=user.login, reason=reason,
                 details={"purpose": purpose, "asked": len(answers)})
    return reason is None


def _answers_failure(db: Session, user: DirectoryUser, answers: Mapping[str, str]) -> str | None:
    profile = find_profile(db, user.directory_id)
    stored = {a.question_key: a.answer_hash for a in profile.answers} if profile else {}
    if not answers or not set(answers) <= set(stored):
        return "not_registered"
    results = [questions.answer_matches(stored[key], typed) for key, typed in answers.items()]
    return None if all(results) else "wrong"
