"""Twilio's Programmable Messaging REST API: POST /2010-04-01/Accounts/{sid}/Messages.json.

Form-encoded To, Body and From (or MessagingServiceSid), HTTP basic auth with the account SID and
auth token; 201 Created means Twilio accepted the message. `api_url` exists so tests can point
the real client at a local server.
"""
from __future__ import annotations

from urllib.parse import quote

from ...settings.sms import TwilioSettings
from .errors import post


class TwilioGateway:
    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings

    @property
    def url(self) -> str:
        sid = quote(self.settings.account_sid, safe="")
        return f"{self.settings.api_url.rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"

    def form(self, to: str, text: str) -> dict[str, str]:
        sender = ({"MessagingServiceSid": self.settings.messaging_service_sid}
                  if self.settings.messaging_service_sid else {"From": self.settings.from_number})
        return {"To": to, "Body": text, **sender}

    def send(self, to: str, text: str) -> None:
        post("Twilio", self.url, data=self.form(to, text),
             auth=(self.settings.account_sid, self.settings.auth_token), timeout=self.settings.timeout_seconds)
