"""A generic HTTPS webhook: POST a JSON body built from settings, with headers from settings.

Most SMS providers (and in-house gateways) accept "POST this JSON with this API key header":
`body` maps JSON keys to templates where `{to}` is the E.164 number and `{message}` the text.
Placeholders are replaced literally (no str.format), so braces in a message stay harmless.
"""
from __future__ import annotations

from ...settings.sms import WebhookSettings
from .errors import post


class WebhookGateway:
    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings

    def body(self, to: str, text: str) -> dict[str, str]:
        return {key: template.replace("{to}", to).replace("{message}", text)
                for key, template in self.settings.body.items()}

    def send(self, to: str, text: str) -> None:
        post("SMS webhook", self.settings.url, json=self.body(to, text), headers=dict(self.settings.headers),
             timeout=self.settings.timeout_seconds)
