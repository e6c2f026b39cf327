"""Security questions: a built-in catalogue plus custom ones from settings, answers hashed with argon2.

Answers are compared after normalization (Unicode NFKC, case-folded, whitespace collapsed), so
"  New   York" and "new york" match; that same normalized form is what argon2 hashes. Weak
choices are refused when registering: too short, two answers alike, or the login name inside.
"""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ....settings.registration import QuestionSettings
from .base import InvalidEntry, Member, Proves, Registers

KEY = "questions"
BUILTIN = (
    ("first-pet", _l("What was the name of your first pet?")),
    ("childhood-friend", _l("What was the first name of your best friend as a child?")),
    ("first-school", _l("What was the name of your first school?")),
    ("childhood-street", _l("What was the name of the street you grew up on?")),
    ("first-employer", _l("What was the name of your first employer?")),
    ("favourite-teacher", _l("What was the last name of your favourite teacher?")),
    ("first-concert", _l("What was the first concert you went to?")),
    ("parents-met", _l("In which town or city did your parents meet?")),
    ("first-car", _l("What was the make and model of your first car?")),
    ("childhood-hero", _l("Who was your childhood hero?")),
)
MAX_ANSWER_LENGTH = 200
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Question:
    key: str
    text: str


def catalogue(settings: QuestionSettings) -> list[Question]:
    """Questions offered now, in the current language. A custom question's key comes from its
    (English) text, so rewording a question retires the answers given to the old wording instead
    of silently reusing them; a translation does not."""
    offered = [Question(key, str(text)) for key, text in BUILTIN] if settings.builtin else []
    offered += [Question("custom-" + hashlib.sha256(text.strip().encode()).hexdigest()[:16], _(text.strip()))
                for text in settings.custom]  # translated like a theme's texts: branding/<theme>/messages/
    return offered


def normalize(answer: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", answer or "").casefold().split())


def validate(chosen: Mapping[str, str], *, login: str, settings: QuestionSettings) -> dict[str, str]:
    """Check a complete set of question key -> answer; the normalized answers, or InvalidEntry."""
    offered = {q.key for q in catalogue(settings)}
    if len(chosen) != settings.register_count or not set(chosen) <= offered:
        raise InvalidEntry(_("Choose %(count)d different questions from the list.", count=settings.register_count))
    normalized = {key: normalize(answer) for key, answer in chosen.items()}
    name = normalize(login)
    for answer in normalized.values():
        if len(answer) < settings.min_answer_length or len(answer) > MAX_ANSWER_LENGTH:
            raise InvalidEntry(_("Each answer needs %(count)d to %(most)d characters.",
                                 count=settings.min_answer_length, most=MAX_ANSWER_LENGTH))
        if len(name) >= 3 and name in answer:
            raise InvalidEntry(_("An answer must not contain your user name."))
    if len(set(normalized.values())) != len(normalized):
        raise InvalidEntry(_("Give a different answer to each question."))
    return normalized


def hash_answer(normalized: str) -> str:
    return _hasher.hash(normalized)


def answer_matches(stored_hash: str, typed: str) -> bool:
    try:
        return _hasher.verify(stored_hash, normalize(typed))
    except (VerificationError, InvalidHashError):
        return False


def pick(registered: Sequence[str], count: int) -> list[str]:
    """`count` of the registered question keys, chosen at random for each reset."""
    return secrets.SystemRandom().sample(list(registered), min(count, len(registered)))



# never for administrators: the answers to such questions are often found on social media
METHOD = Member(key=KEY, registers=Registers.ANSWERS, proves=Proves.ANSWERS, channel=None,
                allowed_for_admins=False, title=_l("Security questions"), in_sentence=_l("security questions"))
