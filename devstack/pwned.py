"""Pwned Passwords files for tests and the bench: random sorted hashes around some known ones.

The real file (haveibeenpwned-downloader) is 40 GB; what matters for the lookup is its format,
which this writes exactly: `HASH:COUNT` lines, upper-case hex, sorted by hash, CRLF (Windows) or
LF (Linux), with or without a line end after the last line. A few million lines take seconds.
"""
from __future__ import annotations

import array
import bisect
import itertools
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from portal.services.passwords.rules.digests import DIGESTS
from portal.services.passwords.rules.hashfile import HASH_LENGTHS


def write_pwned_file(path: Path, lines: int, known: Mapping[str, int] = {}, *, hash_format: str = "sha1",
                     line_end: bytes = b"\r\n", final_line_end: bool = True) -> list[bytes]:
    """Write `lines` random hashes plus those of the `known` passwords (with their counts, 1 to
    200 for the others); return every hash written, sorted (what a lookup may find).

    Sorting millions of random hashes takes a loaded machine many seconds, so none is sorted: the
    first 4 bytes of hash i are i spaced evenly over their range, the rest is random."""
    width = HASH_LENGTHS[hash_format] // 2
    prefixes = array.array("I", range(0, lines * (2**32 // lines), 2**32 // lines))
    if sys.byteorder == "little":
        prefixes.byteswap()  # big-endian: byte order is numeric order
    raw = bytearray(os.urandom(lines * width))
    heads = prefixes.tobytes()
    for column in range(4):
        raw[column::width] = heads[column::4]
    hexed = raw.hex().upper().encode()
    keys = [hexed[i:i + 2 * width] for i in range(0, len(hexed), 2 * width)]
    ends = [b":%d%s" % (count, line_end) for count in range(1, 201)]
    suffixes = [ends[byte % 200] for byte in raw[width - 1::width]]
    for password, count in known.items():
        key = DIGESTS[hash_format](password)
        at = bisect.bisect_left(keys, key)
        keys.insert(at, key)
        suffixes.insert(at, b":%d%s" % (count, line_end))
    body = b"".join(itertools.chain.from_iterable(zip(keys, suffixes)))
    path.write_bytes(body if final_line_end else body[:-len(line_end)])
    return keys
