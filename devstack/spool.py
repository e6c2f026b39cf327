"""A folder that keeps what a dev-stack sink received: one file per item, in arrival order.

The mail sink (.eml files) and the SMS sink (.json files) share it, so the demo and the tests read
both the same way: each file is written under a hidden name and renamed, so readers never see half
of one, and sorting the names gives the order they arrived in.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class Spool:
    def __init__(self, folder: Path, suffix: str) -> None:
        self.folder = folder
        self.suffix = suffix
        self.sequence = itertools.count()

    def create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def save(self, content: bytes) -> Path:
        name = f"{time.time_ns():020d}-{next(self.sequence):06d}{self.suffix}"
        partial = self.folder / f".{name}.part"
        partial.write_bytes(content)
        return partial.rename(self.folder / name)

    def contents(self) -> list[bytes]:
        """Every item's bytes, oldest first."""
        return [path.read_bytes() for path in sorted(self.folder.glob(f"*{self.suffix}"))]

    def clear(self) -> None:
        for path in self.folder.glob(f"*{self.suffix}"):
            path.unlink()

    def wait_for(self, parse: Callable[[bytes], T], predicate: Callable[[T], bool], timeout: float) -> T:
        """The first item that satisfies `predicate`; TimeoutError if none arrives in time."""
        deadline = time.monotonic() + timeout
        while True:
            for item in map(parse, self.contents()):
                if predicate(item):
                    return item
            if time.monotonic() >= deadline:
                raise TimeoutError(f"nothing matching in {self.folder} after {timeout} s")
            time.sleep(0.05)
