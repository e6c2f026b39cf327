"""Tests of portal.blueprints: the flows people walk through, page by page.

They drive the portal's pages with its test client against the real OIDC provider, slapd (and Samba
AD where a flow must hold on both), the mail sink and the SMS gateway; the apps and helpers
come from tests.registration_support and tests.reset_support.
"""
