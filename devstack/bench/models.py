"""`python -m devstack.bench.models`: the worker-model comparison behind deploy/gunicorn.conf.py.

For each model (sync processes, gthread with 8 or 32 threads per worker, 2 workers each; and
4 workers x 16 threads) the
landing ratio and the paced figure of `make bench`, on a small population (BENCH_PEOPLE, default
1000). The portal and its reference page run with the same model in each case.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from devstack.ports import TEST

from . import resets
from .figures import Report
from .run import landing_ratio, main_portal, paced_load
from .stack import Population, clear_rate_limits

MODELS: dict[str, tuple[str, ...]] = {
    "sync-2": ("--worker-class", "sync", "--threads", "1"),  # threads > 1 would make it gthread
    "gthread-2x8": ("--threads", "8"),
    "gthread-2x32": ("--threads", "32"),
    "gthread-4x16": ("--workers", "4", "--threads", "16"),  # as many slots, the GIL shared by fewer
}


def main() -> int:
    size = int(os.environ.get("BENCH_PEOPLE", "1000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    workdir = Path(f"/tmp/pp-models-{os.getpid()}")
    clear_rate_limits()
    try:
        with Population(size, TEST, workdir / "people") as population:
            people = resets.People(size)
            for name, model in MODELS.items():
                Report.note(f"worker model {name}")
                report = Report()
                with main_portal(population, model=model) as portal:
                    landing_ratio(report, population, portal, rounds, model)
                    paced_load(report, TEST, people, rounds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
