"""A software passkey for tests without a browser: it answers the portal's WebAuthn options as a
device would (a P-256 key, user present and verified, "none" attestation), so py_webauthn checks
real signatures over what the portal asked. The browser journeys use Chromium's own authenticator
(tests/journeys/test_passkey.py); this one lets a test replay an answer, or sign for another origin.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

UP, UV, AT = 0x01, 0x04, 0x40


@dataclass
class SoftPasskey:
    origin: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(16))
    sign_count: int = 0
    user_handle: bytes = b""

    def create(self, options_json: str) -> str:
        """The answer to navigator.credentials.create(options), as static/passkey.js posts it."""
        options = json.loads(options_json)
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        attested = bytes(16) + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self.cose_key()
        data = self._authenticator_data(options["rp"]["id"], UP | UV | AT) + attested
        client = self._client_data("webauthn.create", options["challenge"])
        return json.dumps({"id": bytes_to_base64url(self.credential_id), "rawId": bytes_to_base64url(self.credential_id),
                           "type": "public-key", "clientExtensionResults": {}, "response": {
                               "clientDataJSON": bytes_to_base64url(client),
                               "attestationObject": bytes_to_base64url(cbor2.dumps(
                                   {"fmt": "none", "attStmt": {}, "authData": data})),
                               "transports": ["internal"]}})

    def cose_key(self) -> bytes:
        """The public key as a device reports it (COSE, EC2 P-256, ES256)."""
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def get(self, options_json: str, *, origin: str | None = None) -> str:
        """The answer to navigator.credentials.get(options): the counter moves on by one."""
        options = json.loads(options_json)
        self.sign_count += 1
        data = self._authenticator_data(options["rpId"], UP | UV)
        client = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(data + hashlib.sha256(client).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps({"id": bytes_to_base64url(self.credential_id), "rawId": bytes_to_base64url(self.credential_id),
                           "type": "public-key", "clientExtensionResults": {}, "response": {
                               "clientDataJSON": bytes_to_base64url(client),
                               "authenticatorData": bytes_to_base64url(data),
                               "signature": bytes_to_base64url(signature),
                               "userHandle": bytes_to_base64url(self.user_handle)}})

    def _authenticator_data(self, rp_id: str, flags: int) -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + self.sign_count.to_bytes(4, "big")

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()
