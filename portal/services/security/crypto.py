"""Keys derived from the portal's secret_key, one per purpose, for hashing and encrypting at rest.

A separate key per purpose (HKDF with the purpose as `info`) means a key recovered from one
use, say the outbox, says nothing about another, say the authenticator secrets. Rotating
secret_key therefore voids codes in flight, queued messages and enrolled authenticator apps:
people re-enrol their app (documented in the example settings).
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

__all__ = ["InvalidToken", "Sealer", "app_secret", "derive_key", "keyed_hash"]


def derive_key(secret_key: str, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"password-portal/{purpose}".encode()).derive(secret_key.encode())


def keyed_hash(secret_key: str, purpose: str, *parts: str) -> str:
    """HMAC-SHA256 over length-prefixed parts, so ("ab", "c") and ("a", "bc") never collide."""
    message = b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)
    return hmac.new(derive_key(secret_key, purpose), message, hashlib.sha256).hexdigest()


class Sealer:
    """Authenticated encryption (Fernet) of short texts with a purpose-bound key."""

    def __init__(self, secret_key: str, purpose: str) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, purpose)))

    def seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def unseal(self, token: str) -> str:
        """The text; InvalidToken if it was altered or sealed under another secret_key."""
        return self._fernet.decrypt(token.encode()).decode()


def app_secret() -> str:
    secret: str = current_app.config["SECRET_KEY"]
    return secret
