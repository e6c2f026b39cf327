"""Tests of portal.services.campaigns: campaigns and password-expiry reminders.

They need the real slapd and Samba AD (audiences and expiry dates come from the directory), the
real SMTP mail sink, and separate worker processes for the crash-and-resume test.
"""
