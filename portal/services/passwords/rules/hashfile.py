"""A Pwned Passwords file searched where it lies: binary search on a memory map, never loaded.

The file is what haveibeenpwned-downloader writes: one `HASH:COUNT` line per hash (40 hex digits
for SHA-1, 32 for NTLM, upper case), sorted by hash, CRLF on Windows and LF elsewhere, the last
line with or without its line end. The full SHA-1 download is about 40 GB, so nothing reads it
whole: a lookup touches a few dozen pages of the map, which the kernel keeps in its page cache
(file-backed and clean, shared by every process that maps the file, dropped under pressure), and
takes microseconds.

At start-up a sample of lines spread over the file is read (SAMPLES of them, each with the line
after it): each must be well formed and the sample sorted, so a wrong file (another format, the
"ordered by count" download, a truncated copy) stops the portal instead of answering "not found"
for ever. The sample stays in memory as fences: a lookup first finds its segment among them, then
searches only that segment of the map.

The map is read-only and shared (MAP_SHARED, PROT_READ) and is only ever sliced, never read
through its file offset, so a preloading server can open it before forking: the workers inherit
the same mapping, with no lock or offset to share (tests/services/passwords/test_hashfile.py forks).
"""
from __future__ import annotations

import bisect
import mmap
import os
import re
from dataclasses import dataclass
from pathlib import Path

SAMPLES = 256
HASH_LENGTHS = {"sha1": 40, "ntlm": 32}
_LINE = re.compile(rb"([0-9A-F]+):([0-9]+)\r?")


class HashFileError(Exception):
    """The file cannot serve lookups; the message says why, for the one-line start-up error."""


@dataclass(frozen=True)
class _Fences:
    keys: list[bytes]     # hashes of the sampled lines, strictly increasing
    offsets: list[int]    # where each of those lines starts


class HashFile:
    """Occurrence counts of hashes in one sorted file (`count(b"HEX")`, 0 when absent)."""

    def __init__(self, path: Path, hash_format: str) -> None:
        self.hash_length = HASH_LENGTHS[hash_format]
        self._map = _open_map(path)
        self.size = len(self._map)
        self._fences = _sample(self._map, self.hash_length, hash_format)

    def count(self, key: bytes) -> int:
        """How often `key` (upper-case hex of the file's hash length) was seen in breaches."""
        fences = self._fences
        index = bisect.bisect_right(fences.keys, key) - 1
        if index < 0:
            return 0
        if fences.keys[index] == key:
            return _count_at(self._map, fences.offsets[index] + self.hash_length)
        end = fences.offsets[index + 1] if index + 1 < len(fences.offsets) else self.size
        return self._search(key, fences.offsets[index], end)

    def _search(self, key: bytes, lo: int, hi: int) -> int:
        """Binary search by bytes, keeping `lo` a line start and the line holding `key`, if any,
        starting in [lo, hi].

        Each step takes the first line that starts after the middle byte: a smaller hash moves
        `lo` to that line, a greater one (or no whole line there) moves `hi` to the middle, since
        the key's line then starts at or before it, in the line that holds the middle byte. When
        lo meets hi, the line starting there is the only place left for the key."""
        m, length = self._map, self.hash_length
        while lo < hi:
            middle = (lo + hi) // 2
            newline = m.find(b"\n", middle, hi)
            start = newline + 1
            if newline < 0 or start + length > self.size:
                hi = middle
                continue
            found = m[start:start + length]
            if found == key:
                return _count_at(m, start + length)
            if found < key:
                lo = start
            else:
                hi = middle
        return _count_at(m, lo + length) if m[lo:lo + length] == key else 0


def _open_map(path: Path) -> mmap.mmap:
    try:
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                raise HashFileError("is empty: download it again with haveibeenpwned-downloader")
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        raise HashFileError("not found: download it with haveibeenpwned-downloader (README "
                            "\"Breached passwords\")") from None
    except IsADirectoryError:
        raise HashFileError("is a directory: name the single .txt file the downloader wrote") from None
    except PermissionError:
        raise HashFileError("cannot be read: the portal's user needs read permission") from None
    except OSError as error:
        raise HashFileError(f"cannot be read: {error.strerror}") from None
    mapped.madvise(mmap.MADV_RANDOM)  # a lookup reads a page here and there: no read-ahead
    return mapped


def _next_line(m: mmap.mmap, position: int) -> int:
    """Where the line after the one holding `position` starts (the file's size after the last)."""
    newline = m.find(b"\n", position)
    return len(m) if newline < 0 else newline + 1


def _line_at(m: mmap.mmap, start: int) -> bytes:
    end = m.find(b"\n", start)
    return m[start:len(m) if end < 0 else end]


def _count_at(m: mmap.mmap, colon: int) -> int:
    """The count after the hash that ends at `colon`. Only the sample was checked: a line damaged
    after its hash still lists that hash, so it counts once rather than failing the request."""
    digits = _line_at(m, colon + 1).rstrip(b"\r")
    return int(digits) if digits.isdigit() else 1


def _sample(m: mmap.mmap, length: int, hash_format: str) -> _Fences:
    """SAMPLES lines spread over the file and the last one, each checked with the line after it,
    kept as fences."""
    size = len(m)
    starts = sorted({_line_from(m, size * i // SAMPLES) for i in range(SAMPLES)} | {_last_line(m)})
    keys: list[bytes] = []
    offsets: list[int] = []
    for start in starts:
        following = _next_line(m, start)
        for at in (start, following):
            if at >= size or (offsets and at == offsets[-1]):
                continue
            found = _key(m, at, length, hash_format)
            if keys and found <= keys[-1]:
                raise HashFileError(f"is not sorted by hash (the line at byte {at} does not come after "
                                    f"the one before it): use the file as the downloader wrote it")
            keys.append(found)
            offsets.append(at)
    return _Fences(keys, offsets)


def _line_from(m: mmap.mmap, position: int) -> int:
    """Where the first line starting at or after `position` starts."""
    return 0 if position == 0 else _next_line(m, position - 1)


def _last_line(m: mmap.mmap) -> int:
    end = len(m) - 1 if m[-1:] == b"\n" else len(m)
    return m.rfind(b"\n", 0, end) + 1


def _key(m: mmap.mmap, start: int, length: int, hash_format: str) -> bytes:
    line = _line_at(m, start)
    match = _LINE.fullmatch(line)
    if match is None:
        raise HashFileError(f"line at byte {start} is not HASH:COUNT in upper-case hex "
                            f"(the Pwned Passwords format)")
    key = match.group(1)
    if len(key) != length:
        found = next((name for name, n in HASH_LENGTHS.items() if n == len(key)), None)
        what = f"{found.upper()} hashes" if found else f"hashes of {len(key)} hex digits"
        raise HashFileError(f"holds {what}, not {hash_format.upper()} ({length} hex digits): set "
                            f"passwords.breached.format to match the file")
    return key
