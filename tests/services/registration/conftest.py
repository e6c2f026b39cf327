"""Tests of portal.services.registration: security info imported from CSV by IT.

They run the `flask` command line on an app of tests.registration_support.
"""
