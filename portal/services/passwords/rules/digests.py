"""The two hashes Pwned Passwords is published in: SHA-1 of UTF-8, and NTLM (MD4 of UTF-16LE).

OpenSSL 3 moved MD4 to its legacy provider, which Debian does not load, so `hashlib.new("md4")`
raises here; MD4 (RFC 1320) is short enough to compute in Python. It runs only on a password
being checked against an NTLM file, a few tens of microseconds per password.
"""
from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

_MASK = 0xFFFFFFFF
# RFC 1320's three rounds: per round, the order of the message words and the shift of each step
_ORDER = (tuple(range(16)), tuple(4 * (i % 4) + i // 4 for i in range(16)),
          (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15))
_SHIFTS = ((3, 7, 11, 19), (3, 5, 9, 13), (3, 9, 11, 15))
_CONSTANTS = (0, 0x5A827999, 0x6ED9EBA1)
_MIXES: tuple[Callable[[int, int, int], int], ...] = (
    lambda x, y, z: (x & y) | (~x & z),
    lambda x, y, z: (x & y) | (x & z) | (y & z),
    lambda x, y, z: x ^ y ^ z,
)


def md4(data: bytes) -> bytes:
    """MD4 digest of `data` (RFC 1320)."""
    padded = data + b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", 8 * len(data))
    state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for block in range(0, len(padded), 64):
        words = struct.unpack("<16I", padded[block:block + 64])
        a, b, c, d = state
        for order, shifts, constant, mix in zip(_ORDER, _SHIFTS, _CONSTANTS, _MIXES):
            for step, index in enumerate(order):
                value = (a + mix(b, c, d) + words[index] + constant) & _MASK
                shift = shifts[step % 4]
                a, b, c, d = d, ((value << shift) | (value >> (32 - shift))) & _MASK, b, c
        state = [(s + v) & _MASK for s, v in zip(state, (a, b, c, d))]
    return struct.pack("<4I", *state)


def sha1_hex(password: str) -> bytes:
    return hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper().encode()


def ntlm_hex(password: str) -> bytes:
    return md4(password.encode("utf-16-le")).hex().upper().encode()


DIGESTS: dict[str, Callable[[str], bytes]] = {"sha1": sha1_hex, "ntlm": ntlm_hex}
