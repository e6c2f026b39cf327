"""The collaborators services work with, built once by the app factory and handed to them.

A service step takes a `Collaborators` as its first argument instead of looking things up in
`current_app` itself, so it can be read (everything it touches is in its signature) and tested
without a request (build one from settings and real servers). Only the web layer fetches the
app's instance (`collaborators()`), once per step, and passes it on.

Link mode leaves some out: the directory and the OpenID Connect client exist only when the
settings have them and something uses them (`Settings.serves_accounts`). Absent is `None`, never
a stand-in; the routes that would need them are not registered, so a service reaching for one
that is absent is a bug, and `directory` / `oidc` say so instead of failing later on `None`.

Transactions have one home: a service step opens `with c.store.transaction() as db:` around the
work of that step and hands `db` down to the helpers it calls; blueprints never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from flask import Flask, current_app

from ..adapters.directory import Directory
from ..settings import Settings
from ..store import Store

if TYPE_CHECKING:
    from datetime import datetime

    from ..branding import ThemeRegistry
    from .identity.oidc import OidcSignIn
    from .messaging.outbox import Outbox
    from .passwords.rules import PasswordRules
    from .proofs.codes import CodeBook

EXTENSION = "collaborators"


class Clock(Protocol):
    """The portal's "now" (portal/clock.py; tests move it instead of sleeping)."""

    def utcnow(self) -> datetime: ...

    def timestamp(self) -> int: ...


class NotConfigured(RuntimeError):
    """A collaborator link mode left out was asked for (a route or command that should not exist)."""


@dataclass(frozen=True)
class Collaborators:
    settings: Settings
    store: Store
    outbox: Outbox      # queued mail and SMS, delivered through the mail and SMS adapters
    codes: CodeBook
    themes: ThemeRegistry
    clock: Clock
    password_rules: PasswordRules   # with the breached-passwords list, opened at start-up
    configured_directory: Directory | None    # None: no [directory], or nothing here reads accounts
    configured_oidc: OidcSignIn | None        # None: no [oidc], or nothing here signs people in

    @property
    def directory(self) -> Directory:
        if self.configured_directory is None:
            raise NotConfigured("no directory: [directory] is not set, or no built-in action uses it")
        return self.configured_directory

    @property
    def oidc(self) -> OidcSignIn:
        if self.configured_oidc is None:
            raise NotConfigured("no sign-in: [oidc] is not set, or no built-in action uses it")
        return self.configured_oidc


def install(app: Flask, built: Collaborators) -> None:
    app.extensions[EXTENSION] = built


def collaborators(app: Flask | None = None) -> Collaborators:
    """The app's collaborators: for the web layer and commands, which hand them to services."""
    found: Collaborators = (app or current_app).extensions[EXTENSION]
    return found
