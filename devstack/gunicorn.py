"""The portal under gunicorn with deploy/gunicorn.conf.py, as production runs it.

The demo, the scale-out tests and `make bench` start the portal through this, so each runs the
configuration IT deploys; only the address, the worker counts and the settings differ.
"""
from __future__ import annotations

from pathlib import Path

import requests

from .process import ManagedProcess

REPO = Path(__file__).resolve().parent.parent
GUNICORN = REPO / ".venv" / "bin" / "gunicorn"
CONFIG = REPO / "deploy" / "gunicorn.conf.py"


def portal_server(name: str, port: int, environ: dict[str, str], log_path: Path, *,
                  workers: int = 2, threads: int = 8, argv: tuple[str, ...] = ()) -> ManagedProcess:
    """A gunicorn serving the portal on 127.0.0.1:`port`; ready once /healthz answers 200.

    `environ` holds the portal's settings (PORTAL_CONFIG and overrides). `argv` is more gunicorn
    arguments, which win over the config file: `make bench` passes another worker class to compare,
    or another WSGI app (its reference page). Not started yet."""
    def answers() -> bool:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200

    settings = {"PORTAL_BIND": f"127.0.0.1:{port}", "PORTAL_WORKERS": str(workers),
                "PORTAL_THREADS": str(threads), **environ}
    return ManagedProcess(name, [str(GUNICORN), "-c", str(CONFIG), *argv], log_path, answers,
                          env=settings, cwd=REPO)
