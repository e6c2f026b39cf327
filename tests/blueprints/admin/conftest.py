"""Tests of portal.blueprints.admin: who may open /admin, and the audit log viewer.

They sign in through the real OIDC provider, with the admin app of tests.admin_support.
"""
