"""Tests of portal.services.security: rate limits and budgets counted before they are judged.

They need the machine's real Redis (127.0.0.1:6379) to share limits between portal processes.
"""
