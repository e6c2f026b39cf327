"""Tests of portal.services.reset: the reset's steps, its limits and its life across processes.

They need the stack of tests.reset_support (real slapd, mail sink, SMS gateway), PostgreSQL
(tests.store_support.postgres_url) and Redis for limits shared between portal processes.
"""
