"""Run one dev-stack server as a child process: start it, wait until it really answers, stop it.

Every part of the dev stack (slapd, Samba, the OpenID Connect provider, the portal) is a real
server started by our own scripts; this is the one place that knows how to babysit them, so a
server that dies during start-up is reported with the tail of its own log instead of a hang.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class ServerFailed(RuntimeError):
    """A dev-stack server exited or never became ready."""


class ManagedProcess:
    """A child process with a log file, a readiness probe and a clean stop."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path,
                 ready: Callable[[], bool], *, env: dict[str, str] | None = None,
                 cwd: Path | None = None, ready_timeout: float = 30.0) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.ready = ready
        self.env = env
        self.cwd = cwd
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(self.env or {})}, cwd=self.cwd, start_new_session=True)
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerFailed(f"{self.name} exited with code {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                if self.ready():
                    return
            except Exception:  # noqa: BLE001 - any probe failure just means "not yet"
                pass
            time.sleep(0.05)
        self.stop()
        raise ServerFailed(f"{self.name} was not ready after {self.ready_timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the whole process group, then SIGKILL what is left after `timeout`."""
        if not self.running():
            return
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> "ManagedProcess":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
