"""Errors raised below the services that the web layer turns into pages.

A blueprint maps "the directory cannot be reached" to its own page, but imports no adapter: it
names the error through this module, which the services layer owns.
"""
from __future__ import annotations

from ..adapters.directory import DirectoryUnavailable

__all__ = ["DirectoryUnavailable", "Refused"]


class Refused(Exception):
    """A service refuses a step for a `reason` that the page and the audit trail both give."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
