"""Tests of portal.services.messaging: the outbox that delivers queued mail.

They need the real SMTP server (a MailSink per test), worker processes started with `flask outbox`,
and a throwaway PostgreSQL database (tests.store_support.postgres_url).
"""
