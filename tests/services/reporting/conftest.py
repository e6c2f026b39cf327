"""Tests of portal.services.reporting: reports that count what the tests did.

They need the real slapd (changes go through the real change flow) and the admin app of
tests.admin_support.
"""
