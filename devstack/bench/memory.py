"""Unique memory (USS) of gunicorn's workers, from /proc/PID/smaps_rollup (private pages only:
what the process would give back if it ended, copy-on-write pages shared with the master not counted)."""
from __future__ import annotations

from pathlib import Path

MB = 1024 * 1024


def workers_of(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def uss_mb(pid: int) -> float:
    private_kb = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("Private_Clean", "Private_Dirty"):
            private_kb += int(value.split()[0])
    return private_kb * 1024 / MB


def workers_uss(master_pid: int) -> dict[int, float]:
    return {pid: uss_mb(pid) for pid in workers_of(master_pid)}
