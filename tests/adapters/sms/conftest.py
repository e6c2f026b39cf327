"""Tests of portal.adapters.sms: the webhook and Twilio clients speak real HTTP.

They need the recording SMS gateway on 127.0.0.1 (tests.registration_support.sms_gateway) and an
app whose outbox hands the messages to it.
"""
