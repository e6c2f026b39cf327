"""Signed webhooks: POST one event's JSON to an endpoint, signed the Standard Webhooks way.

The `webhook-id` is the event's id, the same on every retry, so a receiver that de-duplicates by
it sees each event once even when an answer was lost and the outbox sent it again; the
`webhook-timestamp` is the moment of this attempt (receivers refuse stale ones), and
`webhook-signature` the HMAC of both with the body (the `standardwebhooks` library signs, so any
receiver's Standard Webhooks library verifies). Redirects are not followed: an endpoint that
redirects is misconfigured, and following would hand a signed body to another host.
"""
from __future__ import annotations

from datetime import datetime

import requests
from standardwebhooks.webhooks import Webhook


class WebhookError(Exception):
    """Not delivered now (endpoint down, slow, not 2xx); the outbox tries again later."""


def post(url: str, secret: str, *, message_id: str, body: str, timestamp: datetime, timeout: float) -> None:
    """Deliver `body` (JSON text) to `url`; WebhookError unless the endpoint answered 2xx."""
    signature = Webhook(secret).sign(message_id, timestamp, body)
    headers = {"content-type": "application/json", "webhook-id": message_id,
               "webhook-timestamp": str(int(timestamp.timestamp())), "webhook-signature": signature}
    try:
        response = requests.post(url, data=body.encode(), headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as error:
        raise WebhookError(f"{type(error).__name__}: no answer from the endpoint") from error
    if not 200 <= response.status_code < 300:
        raise WebhookError(f"endpoint answered HTTP {response.status_code}")
