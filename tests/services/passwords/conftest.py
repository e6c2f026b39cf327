"""Tests of portal.services.passwords: the password rules and the write discipline.

The rules need no server; the directory writes run against the real slapd and Samba AD, the mail
sink, and a throwaway PostgreSQL database (tests.store_support.postgres_url).
"""
