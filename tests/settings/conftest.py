"""Tests of portal.settings: validated once at start-up, every problem named.

Mostly pure logic with no server; one test starts the portal in a subprocess to see it refuse.
"""
