"""Tests of portal.services.proofs: one-time codes and the verification-method registry.

Pure logic, fast: the registry tests need no server and no app; the code tests need only the
store (SQLite) of an app.
"""
