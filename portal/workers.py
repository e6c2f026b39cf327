"""What each gunicorn worker does first when the app was built before the fork (`preload_app`).

Preloading builds the app once in gunicorn's master, so the workers share its memory pages
instead of each importing and building everything again. Anything that holds a socket, a lock
or a thread must then not be shared: a database or LDAP connection used by two processes at once
interleaves their requests on one wire, and a lock held at the moment of the fork stays held
forever in the child. deploy/gunicorn.conf.py calls `after_fork` from its post_fork hook.

The limiter needs nothing: its Redis client's connection pool notices the new process id and
opens its own connections, and the memory storage is per process by nature. Nor does the
breached-passwords file: its memory map is read-only and only ever sliced (no file offset, no
lock), so the workers search the mapping the master opened (services/passwords/rules/hashfile.py),
and the range mirror opens a new connection per check.
"""
from __future__ import annotations

from flask import Flask

from .services.container import collaborators
from .services.passwords import rules


def before_fork() -> None:
    """In the master, before the workers exist: build what every worker would otherwise build
    for itself at its first password check (the password lists), so they share one copy."""
    rules.load_lists()


def after_fork(app: Flask) -> None:
    """Give this process its own connections, locks and outbox thread."""
    c = collaborators(app)
    c.store.after_fork()
    c.directory.after_fork()
    c.outbox.after_fork()
