"""Passkeys (WebAuthn): a key pair made by the person's device, bound to this portal's host name.

The browser signs a random challenge with a private key that never leaves the device, after the
device checked it is its owner (user verification: a PIN, a fingerprint). The signature covers
the relying-party id (the host name of the base URL the request came to) and the origin, so a
look-alike page cannot relay it: the one phishing-resistant method of the registry.

py_webauthn (Duo) checks attestations and assertions; this module fixes what the portal asks of
them: user verification required, resident (discoverable) keys required, no attestation (the
portal trusts any authenticator its owner uses), and what is stored of a credential. Resident,
because a reset asks with no list of credentials (the same options for every name, see
authentication_challenge): only a passkey the device can find by itself answers that, so a
non-resident one would register and then never work where it is needed. The stored
credential (its id and public key) is sealed with a key derived from secret_key: the public key
is not secret, but sealing (authenticated encryption) means whoever can write to the store cannot
swap in a key of their own. The sign counter is kept in `last_used_step`, the column that makes
each TOTP step work once, for the same reason: an assertion whose counter does not increase is a
copy of the key (a cloned authenticator) or a replay, and is refused.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ... import errors
from .base import Member, Proves, Registers

KEY = "passkey"
SEAL_PURPOSE = "passkey-credential"
CHALLENGE_SECONDS = 300  # how long the browser is given, and how long a challenge is accepted
MAX_RESPONSE_CHARS = 16_000  # a real response is about 1-2 kB; more is not one


class Refused(errors.Refused):
    """The browser's answer does not prove anything; `reason` (for the audit trail) says why."""


@dataclass(frozen=True)
class RelyingParty:
    """Who the browser signs for: the host name (`id`) and origin of one configured base URL."""

    id: str
    origin: str
    name: str

    @classmethod
    def of(cls, base_url: str, name: str) -> RelyingParty:
        parts = urlsplit(base_url)
        return cls(id=parts.hostname or "", origin=f"{parts.scheme}://{parts.netloc}", name=name)


@dataclass(frozen=True)
class Credential:
    """What is kept of a registered passkey (the sign counter is kept beside it)."""

    id: bytes
    public_key: bytes
    rp_id: str

    def to_json(self) -> str:
        return json.dumps({"id": bytes_to_base64url(self.id), "key": bytes_to_base64url(self.public_key),
                           "rp": self.rp_id})

    @classmethod
    def from_json(cls, text: str) -> Credential:
        data = json.loads(text)
        return cls(base64url_to_bytes(data["id"]), base64url_to_bytes(data["key"]), data["rp"])


@dataclass(frozen=True)
class Challenge:
    """Options for the browser (JSON, as navigator.credentials wants them once decoded) and the
    challenge inside them, which the server keeps and uses once."""

    options: str
    challenge: bytes


def new_challenge() -> bytes:
    return secrets.token_bytes(32)


def encoded(challenge: bytes) -> str:
    """A challenge as kept in a session or a flow (text)."""
    return bytes_to_base64url(challenge)


def decoded(kept: str) -> bytes | None:
    try:
        return base64url_to_bytes(kept) or None
    except ValueError:
        return None


def registration_challenge(rp: RelyingParty, *, user_handle: bytes, login: str, display_name: str,
                           existing: Credential | None) -> Challenge:
    """Options to create a passkey for this person; their current one is excluded (the device
    says it already has one instead of making a second)."""
    exclude = [PublicKeyCredentialDescriptor(id=existing.id)] if existing and existing.rp_id == rp.id else []
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=user_handle, user_name=login, user_display_name=display_name,
        timeout=CHALLENGE_SECONDS * 1000, exclude_credentials=exclude,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED))
    return Challenge(options_to_json(options), options.challenge)


def registered(rp: RelyingParty, response: str, challenge: bytes) -> tuple[Credential, int]:
    """The credential the browser created, with its sign counter; Refused when it is not one."""
    _bounded(response)
    try:
        verified = verify_registration_response(credential=response, expected_challenge=challenge,
                                                expected_rp_id=rp.id, expected_origin=rp.origin,
                                                require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise Refused("invalid") from error
    return Credential(verified.credential_id, verified.credential_public_key, rp.id), verified.sign_count


def authentication_challenge(rp: RelyingParty, challenge: bytes) -> Challenge:
    """Options to sign in with a passkey, the same for everybody: no list of allowed credentials
    (the device offers the discoverable passkeys it holds for this host), so the options say
    nothing about whether an account exists or has a passkey. The server checks afterwards that
    the passkey used is the one registered to the account being verified."""
    options = generate_authentication_options(rp_id=rp.id, challenge=challenge, timeout=CHALLENGE_SECONDS * 1000,
                                              allow_credentials=[],
                                              user_verification=UserVerificationRequirement.REQUIRED)
    return Challenge(options_to_json(options), options.challenge)


def asserted(rp: RelyingParty, response: str, challenge: bytes, *, stored: Credential, user_handle: bytes,
             sign_count: int) -> int:
    """The new sign counter when `response` is `stored` signing `challenge`; Refused otherwise.

    The counter is compared after the signature is verified (the library is given 0), so only a
    genuine signature with a counter that did not increase is reported as a clone."""
    _bounded(response)
    try:
        credential = parse_authentication_credential_json(response)
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise Refused("invalid") from error
    handle = credential.response.user_handle
    if credential.raw_id != stored.id or stored.rp_id != rp.id or (handle is not None and handle != user_handle):
        raise Refused("other_credential")
    try:
        verified = verify_authentication_response(credential=credential, expected_challenge=challenge,
                                                  expected_rp_id=rp.id, expected_origin=rp.origin,
                                                  credential_public_key=stored.public_key,
                                                  credential_current_sign_count=0, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise Refused("invalid") from error
    if (verified.new_sign_count or sign_count) and verified.new_sign_count <= sign_count:
        raise Refused("sign_count")
    return verified.new_sign_count


def _bounded(response: str) -> None:
    if not response or len(response) > MAX_RESPONSE_CHARS:
        raise Refused("invalid")


# a key pair on the person's device, bound to this host: a look-alike page cannot use it
METHOD = Member(key=KEY, registers=Registers.CREDENTIAL, proves=Proves.ASSERTION, channel=None,
                allowed_for_admins=True, phishing_resistant=True, title=_l("Passkey"), in_sentence=_l("passkey"))
