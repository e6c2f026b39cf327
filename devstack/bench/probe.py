"""`python -m devstack.bench.probe people`: time and memory of `Directory.people()` in a fresh
process (PORTAL_CONFIG names the bench's settings); prints one JSON line.

Memory is the peak resident size during the walk (VmHWM) minus the resident size before it, so
a streamed walk shows a few MB and a walk that builds the whole list shows all of it.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def people() -> dict[str, float]:
    from portal import create_app
    from portal.adapters.directory import directory_for

    app = create_app()
    with app.app_context():
        directory = directory_for(app)
        directory.ping()
        before = _status_kb("VmRSS")
        started = time.perf_counter()
        count = sum(1 for _ in directory.people())
        seconds = time.perf_counter() - started
    return {"count": count, "seconds": seconds, "growth_mb": (_status_kb("VmHWM") - before) / 1024}


if __name__ == "__main__":
    if sys.argv[1:] != ["people"]:
        raise SystemExit("usage: python -m devstack.bench.probe people")
    print(json.dumps(people()))
