"""The portal's password rules: what they refuse, in words people understand, and what they let through."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from portal.adapters.directory.model import PasswordPolicy
from portal.services.passwords.rules import PasswordRules, common_passwords
from portal.settings.passwords import PasswordSettings

ALICE = ("alice", "Alice Andersen", "alice@example.test", "alice.private@mail.example")
STRONG = "vague otter lamp cactus harbour"


@pytest.fixture
def rules(make_app) -> Iterator[PasswordRules]:
    app: Flask = make_app()
    with app.test_request_context():
        yield PasswordRules(PasswordSettings(min_length=12, organization_terms=["Contoso", "Northwind"]))


def codes(rules: PasswordRules, password: str, personal: tuple[str, ...] = ALICE) -> list[str]:
    return [v.code for v in rules.check(password, personal=personal)]


def test_a_long_passphrase_with_spaces_and_any_language_passes(rules: PasswordRules) -> None:
    assert codes(rules, STRONG) == []
    assert codes(rules, "Grüße aus Köln, 東京 und São Paulo!") == []


def test_64_and_more_characters_are_accepted_up_to_the_maximum(rules: PasswordRules) -> None:
    long = " ".join(["marble", "kettle", "orbit", "fennel", "quartz", "tundra", "violet", "jigsaw",
                     "lantern", "pebble", "walrus"])
    assert len(long) > 64 and codes(rules, long) == []
    assert codes(rules, (long + " ") * 4) == ["too_long"]


@pytest.mark.parametrize("password, code", [
    ("short pass", "too_short"),
    ("Password123!", "common"),
    ("P@ssw0rd1234", "common"),
    ("1qaz2wsx3edc", "common"),
    ("C0nt0so-Rocks-2026", "organization_term"),
    ("n.o.r.t.h.w.i.n.d.42!x", "organization_term"),
    ("Andersen-Garden-77", "personal"),
    ("my mailbox is alice.private", "personal"),
    ("qwertyuiop[]asdf", "too_weak"),
    ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too_weak"),
    ("tab\there is bad and long", "control_character"),
])
def test_each_rule_refuses_with_its_own_reason(rules: PasswordRules, password: str, code: str) -> None:
    assert code in codes(rules, password)


def test_every_refusal_has_a_sentence_for_the_person(rules: PasswordRules) -> None:
    violations = rules.check("C0nt0so-Alice-1", personal=ALICE)
    assert {v.code for v in violations} == {"organization_term", "personal"}
    assert all(v.message and "{" not in v.message for v in violations)


def test_the_bundled_list_is_a_real_list_of_common_passwords() -> None:
    common = common_passwords()
    assert len(common) >= 9000
    assert {"password", "123456", "qwerty", "letmein"} <= common


def test_rules_are_described_before_typing_with_the_directory_rules(rules: PasswordRules) -> None:
    text = " ".join(rules.describe(PasswordPolicy(min_length=14, history=5, complexity=True)))
    assert "At least 12 characters" in text
    assert "Contoso, Northwind" in text
    assert "at least 14 characters" in text and "last 5 passwords" in text and "Three of these four" in text
