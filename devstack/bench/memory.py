"""What gunicorn's processes use: unique memory (USS) of the workers, from /proc/PID/smaps_rollup
(private pages only: what the process would give back if it ended, copy-on-write pages shared
with the master not counted), and CPU seconds of the master and its workers, from /proc/PID/stat."""
from __future__ import annotations

import os
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


def cpu_seconds(master_pid: int) -> float:
    """User + system CPU of the master and its current workers."""
    total = 0
    for pid in (master_pid, *workers_of(master_pid)):
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")
