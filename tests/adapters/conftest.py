"""Tests of portal.adapters: each adapter against the real server it speaks to.

Nothing here is mocked; the servers come from devstack.fixtures (see tests/conftest.py).
"""
