"""Settings of the SMS gateway: none, a generic HTTPS webhook, or Twilio's REST API."""
from __future__ import annotations

import re
from dataclasses import dataclass

from . import checks
from .engine import setting

PLACEHOLDERS = ("{to}", "{message}")


def _body(v: dict[str, str]) -> str | None:
    text = "".join(v.values())
    missing = [p for p in PLACEHOLDERS if p not in text]
    return f"must use {' and '.join(missing)} in its values" if missing else None


HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def _headers(v: dict[str, str]) -> str | None:
    for name, value in v.items():
        if not HEADER_NAME.match(name) or "\r" in value or "\n" in value:
            return f"header {name!r} must be a name of letters, digits and '-' with a one-line value"
    return None


@dataclass(frozen=True, kw_only=True)
class WebhookSettings:
    url: str = setting("", check=lambda v: None if v == "" else checks.web_url(v))
    headers: dict[str, str] = setting({}, check=_headers, secret=True)
    body: dict[str, str] = setting({"to": "{to}", "message": "{message}"}, check=_body)
    timeout_seconds: int = setting(10, check=checks.between(1, 60))


@dataclass(frozen=True, kw_only=True)
class TwilioSettings:
    account_sid: str = setting("")
    auth_token: str = setting("", secret=True)
    from_number: str = setting("")
    messaging_service_sid: str = setting("")
    api_url: str = setting("https://api.twilio.com", check=checks.web_url)
    timeout_seconds: int = setting(10, check=checks.between(1, 60))


@dataclass(frozen=True, kw_only=True)
class SmsSettings:
    provider: str = setting("none", check=checks.one_of(("none", "webhook", "twilio")))
    webhook: WebhookSettings = setting(WebhookSettings)
    twilio: TwilioSettings = setting(TwilioSettings)


def cross_checks(settings: SmsSettings) -> list[tuple[str, str]]:
    """(key, message) pairs: the chosen provider must have what it needs."""
    if settings.provider == "webhook" and not settings.webhook.url:
        return [("sms.webhook.url", "is required when provider = \"webhook\"")]
    if settings.provider == "twilio":
        twilio = settings.twilio
        missing = [name for name in ("account_sid", "auth_token") if not getattr(twilio, name)]
        if not twilio.from_number and not twilio.messaging_service_sid:
            missing.append("from_number")
        return [(f"sms.twilio.{name}", "is required when provider = \"twilio\" (from_number or "
                                       "messaging_service_sid)" if name == "from_number" else
                 "is required when provider = \"twilio\"") for name in missing]
    return []
