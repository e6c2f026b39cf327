"""The verification-method registry, and the readers that go through it: no server, no app.

What each member declares is pinned here (a change to how a method registers or proves, or to
who may use it, is a decision, not a side effect), and so is the agreement between the registry
and the keys settings accept, which settings keep apart because they sit below services.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from portal import PROJECT_ROOT
from portal.adapters.directory.model import DirectoryUser
from portal.services.proofs.methods import (
    DESTINATIONS,
    MEMBERS,
    REGISTRY,
    Channel,
    DestinationMethod,
    Proves,
    Registers,
    keys_that,
    label,
)
from portal.services.proofs.security_info import (
    FROM_DIRECTORY,
    FROM_USER,
    Destination,
    SecurityInfo,
)
from portal.services.registration.policy import available_methods, policy_for
from portal.services.reset.verification import CODE_KINDS
from portal.settings import Settings, SettingsError, load_settings
from portal.settings.registration import DIRECTORY_METHODS, METHODS, PhoneSettings
from tests.support import MAIL_TOML, settings_toml

TEMPLATES = PROJECT_ROOT / "portal" / "templates"


def test_the_registry_has_one_member_per_key_settings_accept_in_display_order() -> None:
    assert tuple(REGISTRY) == METHODS == tuple(m.key for m in MEMBERS)
    assert set(DIRECTORY_METHODS) <= set(DESTINATIONS)  # what the directory can hold is somewhere to send codes


@pytest.mark.parametrize("key, registers, proves, channel, admins", [
    ("email", Registers.DESTINATION, Proves.SENT_CODE, Channel.MAIL, True),
    ("phone", Registers.DESTINATION, Proves.SENT_CODE, Channel.SMS, True),
    ("totp", Registers.SECRET, Proves.CURRENT_CODE, None, True),
    ("passkey", Registers.CREDENTIAL, Proves.ASSERTION, None, True),
    ("questions", Registers.ANSWERS, Proves.ANSWERS, None, False),
])
def test_what_each_method_declares(key: str, registers: Registers, proves: Proves, channel: Channel | None,
                                   admins: bool) -> None:
    method = REGISTRY[key]
    assert (method.registers, method.proves, method.channel, method.allowed_for_admins) == \
        (registers, proves, channel, admins)
    assert method.phishing_resistant is (key == "passkey")  # the one method bound to the site
    assert isinstance(method, DestinationMethod) is (registers is Registers.DESTINATION)


def test_codes_are_sent_for_the_destination_methods_only() -> None:
    assert keys_that(Proves.SENT_CODE) == CODE_KINDS == ("email", "phone")
    assert keys_that(Proves.CURRENT_CODE) == ("totp",)
    assert keys_that(Proves.ANSWERS) == ("questions",)
    assert keys_that(Proves.ASSERTION) == ("passkey",)


def test_labels_and_names_in_a_sentence() -> None:
    assert [label(k) for k in METHODS] == ["Alternate email", "Mobile phone", "Authenticator app", "Passkey",
                                           "Security questions"]
    assert [REGISTRY[k].named for k in METHODS] == ["alternate email", "mobile phone", "authenticator app",
                                                    "passkey", "security questions"]


def test_masking_shows_enough_to_recognise_and_nothing_for_methods_without_a_value() -> None:
    assert REGISTRY["email"].masked("alice.private@mail.example") == "a•••e@mail.example"
    assert REGISTRY["phone"].masked("+14155550123") == "+1 ••• ••• 0123"
    assert REGISTRY["totp"].masked("JBSWY3DPEHPK3PXP") == REGISTRY["questions"].masked("x") == ""
    assert Destination("phone", "+14155550123", FROM_USER).masked == "+1 ••• ••• 0123"


def test_destination_methods_normalize_and_read_the_directory() -> None:
    phone = PhoneSettings(allowed_countries=["US"], default_country="US")
    person = DirectoryUser(dn="uid=a", directory_id="1", login="a", display_name="A",
                           alternate_emails=("A@Mail.EXAMPLE",), mobile="(415) 555-0123")
    assert [DESTINATIONS[k].directory_value(person) for k in DESTINATIONS] == ["A@Mail.EXAMPLE", "(415) 555-0123"]
    assert DESTINATIONS["email"].normalize("A@Mail.EXAMPLE", phone) == "A@mail.example"
    assert DESTINATIONS["phone"].normalize("(415) 555-0123", phone) == "+14155550123"


def test_security_info_counts_own_values_apart_from_the_directory() -> None:
    info = SecurityInfo(directory_id="1", login="a", confirmed_at=None, enrolled=frozenset({"totp"}), answered=(),
                        destinations=(Destination("email", "a@mail.example", FROM_DIRECTORY),
                                      Destination("phone", "+14155550123", FROM_USER)))
    assert info.kinds == {"email", "phone", "totp"}
    assert [k for k in METHODS if info.has_own(k)] == ["phone", "totp"]
    assert info.has_totp


def _settings(tmp_path: Path, extra: str) -> Settings:
    path = tmp_path / "portal.toml"
    path.write_text(settings_toml(f"sqlite:///{tmp_path}/portal.db", extra))
    return load_settings(path, {})


def test_a_method_is_available_only_when_the_portal_can_use_it(tmp_path: Path) -> None:
    no_channels = _settings(tmp_path, "")
    assert available_methods(no_channels) == ("totp", "questions")
    mail = _settings(tmp_path, f'[registration]\nadmin_groups = ["admins"]\n\n{MAIL_TOML}')
    assert available_methods(mail) == ("email", "totp", "questions")
    assert policy_for(mail, ["staff"]).methods == ("email", "totp", "questions")
    assert policy_for(mail, ["ADMINS"]).methods == ("email", "totp")  # never questions for administrators


def test_settings_accept_the_registry_keys_and_nothing_else(tmp_path: Path) -> None:
    assert _settings(tmp_path, '[registration]\nmethods = ["questions", "totp"]').registration.methods == \
        ["questions", "totp"]
    with pytest.raises(SettingsError, match="registration.methods"):
        _settings(tmp_path, '[registration]\nmethods = ["fido"]')


def test_passkeys_are_opt_in_and_administrators_may_be_required_to_have_one(tmp_path: Path) -> None:
    assert "passkey" not in _settings(tmp_path, "").registration.methods  # an upgrade changes no page
    strict = _settings(tmp_path, '[registration]\nmethods = ["email", "totp", "passkey"]\n'
                                 f'admin_groups = ["admins"]\nadmin_requires_passkey = true\n\n{MAIL_TOML}')
    admin, staff = policy_for(strict, ["admins"]), policy_for(strict, ["staff"])
    assert admin.methods == staff.methods == ("email", "totp", "passkey")
    app_only = SecurityInfo(directory_id="1", login="a", confirmed_at=None, enrolled=frozenset({"totp"}),
                            answered=(), destinations=(Destination("email", "a@mail.example", FROM_USER),))
    both = SecurityInfo(directory_id="1", login="a", confirmed_at=None, enrolled=frozenset({"totp", "passkey"}),
                        answered=(), destinations=())
    assert staff.satisfied_by(app_only) and len(admin.counted(app_only)) == 2 and not admin.satisfied_by(app_only)
    assert admin.satisfied_by(both) and both.has_passkey
    with pytest.raises(SettingsError, match="registration.admin_requires_passkey"):
        _settings(tmp_path, '[registration]\nadmin_requires_passkey = true')  # passkeys are not offered


@pytest.mark.parametrize("key", list(DESTINATIONS) + list(keys_that(Proves.CURRENT_CODE)))
def test_every_method_a_code_page_shows_has_its_template(key: str) -> None:
    text = (TEMPLATES / "methods" / f"{key}.html").read_text()
    assert "code_prompt" in text and "sends_code" in text
    assert ("address_field" in text) is (key in DESTINATIONS)
