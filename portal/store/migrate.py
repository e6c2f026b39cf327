"""Apply the Alembic migrations that ship inside the package (no alembic.ini to keep in sync), and
tell whether a database's schema is behind them.

New code on an older (or empty) database fails at its first query; the portal instead says so once
at start-up, answers 503 pages and reports /readyz not ready until `store upgrade` has run.
"""
from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from .db import Store

MIGRATIONS = Path(__file__).with_name("migrations")
UPGRADE_COMMAND = "flask --app wsgi store upgrade"
log = logging.getLogger(__name__)


def alembic_config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = store.engine
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    command.upgrade(alembic_config(store), revision)


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@cache
def revisions() -> tuple[str, ...]:
    """The code's migrations, oldest first; the last one is the head a database must be at."""
    scripts = ScriptDirectory(str(MIGRATIONS))
    return tuple(reversed([script.revision for script in scripts.walk_revisions()]))


def schema_behind(store: Store) -> str | None:
    """None when the database is at the code's head, else the sentence an admin needs.

    A revision this code does not know counts as current: a newer release migrated the database
    (a rolling upgrade upgrades the schema first, then restarts each server), and the migrations
    only add, so this release still works on it. Raises SQLAlchemyError when the database is
    unreachable (the readiness check "database" says so)."""
    current, head = current_revision(store), revisions()[-1]
    if current == head or (current is not None and current not in revisions()):
        return None
    return (f"the database schema is behind the code (database at {current or 'no revision: empty'}, "
            f"code at {head}): pages answer 503 and /readyz is not ready until `{UPGRADE_COMMAND}` has run")


class SchemaBehind(RuntimeError):
    """The readiness check's failure: the database needs `store upgrade`."""


class SchemaWatch:
    """Asks whether the schema is behind until it is not; from then on this process never asks again
    (a schema does not go back), so requests pay one small query only while an upgrade is due."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._current = False

    def behind(self) -> str | None:
        if self._current:
            return None
        problem = schema_behind(self.store)
        self._current = problem is None
        return problem

    def check(self) -> None:
        """The readiness check: raises while the schema is behind."""
        problem = self.behind()
        if problem:
            raise SchemaBehind(problem)

    def report_at_start(self) -> None:
        """Log the one line naming the command when the schema is behind, at start-up.

        The connection is closed afterwards: nothing opened here may be inherited by the
        processes a server forks from this one."""
        try:
            problem = self.behind()
        except SQLAlchemyError:
            return  # unreachable now: /readyz's database check reports it, the watch asks again later
        finally:
            self.store.engine.dispose()
        if problem:
            log.warning("%s", problem)
