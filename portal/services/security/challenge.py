"""A proof-of-work challenge (ALTCHA) in front of the reset's first steps once an address overdoes them.

Each identify and send-code attempt counts against the address that made it, in the rate
limiter's storage (shared by every process with Redis). Past [reset.challenge] after_attempts an
hour, those steps need a solved challenge: the browser's widget (served by the portal) spends some
CPU on it, a script hammering the portal spends a lot. The decision looks at the address only,
never at the account, so the page is the same for every account typed. Challenges are signed with
a key derived from secret_key, expire after CHALLENGE_MINUTES (by the wall clock, which the library
checks) and are good for one use: a solved challenge's signature is remembered, in the same
storage, until it would have expired anyway.
"""
from __future__ import annotations

import json
import time

import altcha
from limits import RateLimitItem, RateLimitItemPerMinute, parse

from ...extensions import limiter
from ...settings.reset import ChallengeSettings
from .budgets import NAMESPACE
from .crypto import derive_key

ALGORITHM = "PBKDF2/SHA-256"
CHALLENGE_MINUTES = 10
FIELD = "altcha"  # the widget's hidden field


def _hmac_key(secret_key: str) -> bytes:
    return derive_key(secret_key, "altcha-challenge")


def _attempts(settings: ChallengeSettings) -> tuple[RateLimitItem, str]:
    return parse(f"{settings.after_attempts} per hour"), "challenge-attempts"


def needed(settings: ChallengeSettings, ip: str | None) -> bool:
    """True when this address made its after_attempts attempts this hour: the page shows the challenge."""
    if not settings.enabled or ip is None:
        return False
    item, scope = _attempts(settings)
    return not limiter.limiter.test(item, NAMESPACE, scope, ip)


def counted_over(settings: ChallengeSettings, ip: str | None) -> bool:
    """Count one identify or send-code attempt from this address; True when it is past the threshold.

    The atomic increment is judged by the count it returns (as budgets.spend does), so parallel
    attempts in any number of processes cannot all slip in under a look taken before they counted."""
    if not settings.enabled or ip is None:
        return False
    item, scope = _attempts(settings)
    return not limiter.limiter.hit(item, NAMESPACE, scope, ip)


def issue(settings: ChallengeSettings, secret_key: str) -> str:
    """A fresh signed challenge as the JSON the widget takes in its `challenge` attribute."""
    challenge = altcha.create_challenge(ALGORITHM, settings.cost, hmac_secret=_hmac_key(secret_key),
                                        expires_at=int(time.time()) + CHALLENGE_MINUTES * 60)
    return json.dumps(challenge.to_dict())


def accept(secret_key: str, payload: str) -> bool:
    """True for a valid, unexpired solution seen for the first time; its signature is then used up."""
    try:
        solved = altcha.Payload.from_base64(payload)
        result = altcha.verify_solution(solved, _hmac_key(secret_key))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return False  # not a payload at all
    signature = solved.challenge.signature
    if not result.verified or not signature:
        return False
    once = RateLimitItemPerMinute(1, CHALLENGE_MINUTES)
    return limiter.limiter.hit(once, NAMESPACE, "challenge-used", signature)
