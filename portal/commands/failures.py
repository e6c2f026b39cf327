"""Commands that need the directory say so in one line (exit code 1) when it cannot be reached."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..adapters.directory import DirectoryUnavailable

F = TypeVar("F", bound=Callable[..., Any])


def directory_needed(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DirectoryUnavailable as error:
            raise click.ClickException(f"the directory cannot be reached ({error.detail}); nothing was sent "
                                       "or counted, run the command again later") from error
    return wrapper  # type: ignore[return-value]
