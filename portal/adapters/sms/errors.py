"""What can go wrong handing a message to an SMS gateway, sorted by whether a retry can help."""
from __future__ import annotations

from collections.abc import Mapping

import requests


class SmsError(Exception):
    """Not sent now (gateway down, slow, busy); the outbox tries again later."""


class PermanentSmsError(SmsError):
    """The gateway refused this message for good (bad number, bad credentials)."""


def raise_for_answer(response: requests.Response, gateway: str) -> None:
    """2xx is success; 408, 429 and 5xx are worth a retry; any other answer is final."""
    status = response.status_code
    if 200 <= status < 300:
        return
    kind = SmsError if status in (408, 429) or status >= 500 else PermanentSmsError
    raise kind(f"{gateway} answered HTTP {status}")


def post(gateway: str, url: str, *, timeout: float, json: Mapping[str, str] | None = None,
         data: Mapping[str, str] | None = None, headers: Mapping[str, str] | None = None,
         auth: tuple[str, str] | None = None) -> None:
    """POST without following redirects (a gateway that redirects is misconfigured)."""
    try:
        response = requests.post(url, json=json, data=data, headers=headers, auth=auth, timeout=timeout,
                                 allow_redirects=False)
    except requests.RequestException as error:
        raise SmsError(f"{gateway} unreachable: {type(error).__name__}") from error
    raise_for_answer(response, gateway)
