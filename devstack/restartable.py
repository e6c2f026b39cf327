"""The lifecycle slapd and Samba share: created fresh, then stopped and started on the same data.

Tests of "the directory went away" stop a running server and bring it back with everything it
held; `stopped()` does both around a block, so a failing test cannot leave the server down.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

from devstack.process import ManagedProcess


class RestartableServer(ABC):
    process: ManagedProcess | None = None

    @abstractmethod
    def create(self) -> None:
        """Fresh state, then start."""

    @abstractmethod
    def start(self) -> None:
        """Start on the existing state."""

    def destroy(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def running(self) -> bool:
        return self.process is not None and self.process.running()

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """Down inside the block, back (same data) after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def __enter__(self) -> Self:
        self.create()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.destroy()
