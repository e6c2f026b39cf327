"""Stand-ins for accounts that cannot reset, so their flow looks and costs like a real one.

A name that matches no usable account still gets security questions: the same name always
gets the same set (chosen by a keyed hash, as a real person's registered set stays the same),
and each flow asks a random part of it, drawn once and kept in the flow, as for a real person. Checking the answers runs
argon2 as many times as a real check would, so response times do not single decoys out.
"""
from __future__ import annotations

import functools
import random
from collections.abc import Mapping

from argon2 import PasswordHasher

from ...settings.registration import QuestionSettings
from ..proofs.methods import questions
from ..security.crypto import app_secret, keyed_hash

HASH_PURPOSE = "decoy-questions"


def decoy_questions(guard_key: str, settings: QuestionSettings) -> list[str]:
    """`ask_count` keys out of a fixed, name-specific set of `register_count` questions."""
    catalogue = [q.key for q in questions.catalogue(settings)]
    seed = keyed_hash(app_secret(), HASH_PURPOSE, guard_key)
    registered = random.Random(seed).sample(catalogue, min(settings.register_count, len(catalogue)))
    return questions.pick(registered, settings.ask_count)


@functools.cache
def _decoy_hash() -> str:
    return PasswordHasher().hash("never an answer")


def decoy_answers_checked(answers: Mapping[str, str]) -> None:
    """Spend the time a real check spends (one argon2 verification per answer); nothing passes."""
    for typed in answers.values():
        questions.answer_matches(_decoy_hash(), typed)
