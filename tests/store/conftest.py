"""Tests of portal.store: Alembic migrations and sessions, on SQLite and on the real PostgreSQL.

PostgreSQL tests get a throwaway database from tests.store_support.postgres_url.
"""
