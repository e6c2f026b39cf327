"""Errors raised below the services that the web layer turns into pages.

A blueprint maps "the directory cannot be reached" to its own page, but imports no adapter: it
names the error through this module, which the services layer owns.
"""
from __future__ import annotations

from ..adapters.directory import DirectoryUnavailable

__all__ = ["DirectoryUnavailable"]
