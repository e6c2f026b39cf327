"""Tests of portal.adapters.directory against the real slapd and Samba AD domain controller.

Both adapters run the shared DirectoryContract (directory_contract.py beside this file) with their own
`backend` fixture; the flows reached through them also need the mail sink and the SMS gateway
(tests.registration_support, tests.reset_support).
"""
