"""Breached-password lookups (issue 16): a generated Pwned Passwords file of some million lines.

`breached_lookup_us` is the median time of one lookup (binary search on the memory map, half
of the hashes listed, half not) once the pages it touches are in the page cache, as they are on
a portal that has been answering for a while; a cold page adds one disk read. The SHA-1 of the
password (about a microsecond) is not included. `breached_anon_growth_mb` is how much of this
process's own (anonymous) memory opening the file and all those lookups took: the file's pages
belong to the page cache, shared by every worker, never copied into the process.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from devstack.pwned import write_pwned_file
from portal.services.passwords.rules.hashfile import HashFile

from .clients import median
from .figures import Report

LINES = 3_000_000
PROBES = 20_000


def lookup_figures(report: Report, workdir: Path) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "pwned-passwords-sha1.txt"
    keys = write_pwned_file(path, LINES)
    listed_keys = keys[:: len(keys) // (PROBES // 2)][: PROBES // 2]
    probes = [key for pair in zip(listed_keys, _absent(PROBES // 2)) for key in pair]
    before = _anonymous_mb()
    listed = HashFile(path, "sha1")
    for key in probes:  # the pages these lookups touch, into the page cache and this process's map
        listed.count(key)
    times = []
    for key in probes:
        started = time.perf_counter_ns()
        listed.count(key)
        times.append((time.perf_counter_ns() - started) / 1000)
    report.note(f"breached: {len(keys)} lines ({path.stat().st_size / 2**20:.0f} MB), {len(probes)} lookups")
    report.add("breached_lookup_us", median(times), "us", "<=", 50)
    report.add("breached_anon_growth_mb", _anonymous_mb() - before, "MB", "<=", 5)
    path.unlink()


def _absent(count: int) -> list[bytes]:
    """Random SHA-1 hashes: absent from the file but for odds of about one in 10^41 each."""
    return [os.urandom(20).hex().upper().encode() for _ in range(count)]


def _anonymous_mb() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("RssAnon:")).split()[1]) / 1024
