"""Tests of portal.branding: themes validated at start-up, chosen per host, overriding files.

They need an app and the themes shipped in branding/ (tests.support.REPO_BRANDING).
"""
