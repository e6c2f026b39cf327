"""Answers that take a fixed minimum time, so their timing does not tell who exists.

Looking up a real account costs a few more directory round trips than looking up a name that
matches nobody, and a real code is sent while a decoy is not. Equal work hides most of that;
holding every answer of these pages to a floor hides the rest, whatever the network adds.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..services.container import collaborators

F = TypeVar("F", bound=Callable[..., Any])


def paced(view: F) -> F:
    """Hold the view's answer until [reset] min_response_ms have passed since it started."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return view(*args, **kwargs)
        finally:
            floor = collaborators().settings.reset.min_response_ms / 1000
            remaining = floor - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)

    return wrapper  # type: ignore[return-value]
