"""Settings of signed webhooks: `[[webhooks]]` endpoints, each with its secret and the events it wants.

The secret signs every delivery (Standard Webhooks: HMAC-SHA256 over id, timestamp and body), so
it is either given in the file (`secret`, masked wherever settings are shown) or, better, named by
`secret_env`, an environment variable read once at start-up; the example file holds neither.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import checks
from .engine import Problem, setting

# every event the portal sends (services/messaging/webhooks.py emits them)
EVENTS = ("password.reset", "password.changed", "account.unlocked", "registration.changed", "reset.paused",
          "enforcement.deadline_passed")
SECRET_PREFIX = "whsec_"
ENV_PREFIX = "PORTAL_"  # the loader's: such variables are settings
SECRET_BYTES = (24, 64)  # the length Standard Webhooks asks of a secret, decoded


def _secret(v: str) -> str | None:
    """`whsec_` and standard base64 of 24 to 64 random bytes, the format receivers' libraries read."""
    shape = (f"must be {SECRET_PREFIX} followed by the base64 of 24 to 64 random bytes "
             f"(generate with: python -c 'import base64, secrets; print(\"{SECRET_PREFIX}\" + "
             f"base64.b64encode(secrets.token_bytes(32)).decode())')")
    if v == "":
        return None
    if not v.startswith(SECRET_PREFIX):
        return shape
    encoded = v[len(SECRET_PREFIX):]
    try:  # padding may be left out (receivers' libraries add it back)
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return shape
    return None if SECRET_BYTES[0] <= len(raw) <= SECRET_BYTES[1] else shape


def _url(v: str) -> str | None:
    return checks.web_url(v) or (f"must be at most 255 characters (got {len(v)})" if len(v) > 255 else None)


def _events(v: list[str]) -> str | None:
    return checks.non_empty(v) or checks.each(checks.one_of(EVENTS))(v)


def _env_name(v: str) -> str | None:
    if v.startswith(ENV_PREFIX):
        return f"must not start with {ENV_PREFIX} (such variables are read as settings; got {v!r})"
    return None if v == "" or v.replace("_", "").isalnum() else f"must be an environment variable name (got {v!r})"


@dataclass(frozen=True, kw_only=True)
class WebhookEndpoint:
    url: str = setting(check=_url)
    events: list[str] = setting(check=_events)
    secret: str = setting("", check=_secret, secret=True)
    secret_env: str = setting("", check=_env_name)
    timeout_seconds: int = setting(5, check=checks.between(1, 10))  # well inside the outbox's lease

    def wants(self, event: str) -> bool:
        return event in self.events


def read_secrets(data: dict[str, Any], environ: Mapping[str, str], origin: str, problems: list[Problem]) -> None:
    """Put each endpoint's `secret_env` variable into its `secret`, before the settings are built
    (and checked): exactly one of the two must be given."""
    endpoints = data.get("webhooks")
    if not isinstance(endpoints, list):
        return
    for index, endpoint in enumerate(endpoints):
        if not isinstance(endpoint, dict):
            continue
        key = f"webhooks[{index}]"
        name = endpoint.get("secret_env")
        if name and endpoint.get("secret"):
            problems.append(Problem(origin, f"{key}.secret", "give secret or secret_env, not both"))
        elif isinstance(name, str) and name:
            if name not in environ:
                problems.append(Problem(origin, f"{key}.secret_env", f"names {name}, which is not set in the environment"))
            else:
                endpoint["secret"] = environ[name]
        elif not endpoint.get("secret"):
            problems.append(Problem(origin, f"{key}.secret", "is required (or secret_env, the environment "
                                                             "variable that holds it)"))
