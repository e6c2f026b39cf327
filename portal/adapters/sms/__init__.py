"""Text messages through a gateway chosen in settings: a generic HTTPS webhook or Twilio."""
from __future__ import annotations

from typing import Protocol

from ...settings.sms import SmsSettings
from .errors import PermanentSmsError, SmsError


class SmsGateway(Protocol):
    def send(self, to: str, text: str) -> None:
        """Hand one message to the gateway; raise SmsError (retry later) or PermanentSmsError."""


def make_gateway(settings: SmsSettings) -> SmsGateway | None:
    """The configured gateway, or None when SMS is switched off (provider = "none")."""
    if settings.provider == "webhook":
        from .webhook import WebhookGateway
        return WebhookGateway(settings.webhook)
    if settings.provider == "twilio":
        from .twilio import TwilioGateway
        return TwilioGateway(settings.twilio)
    return None


__all__ = ["PermanentSmsError", "SmsError", "SmsGateway", "make_gateway"]
