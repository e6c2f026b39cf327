"""Tests of the dev stack itself: its OIDC provider, mail sink and `make demo DIRECTORY=ad`.

They need the real servers the dev stack starts (oidc-provider, slapd, Samba AD) and run the demo
as a subprocess the way a person does.
"""
