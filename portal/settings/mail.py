"""Settings of outgoing mail (SMTP) and of the outbox that delivers mail and SMS off the request path."""
from __future__ import annotations

from dataclasses import dataclass

from . import checks
from .engine import setting


def _address(v: str) -> str | None:
    if v == "" or (v.count("@") == 1 and " " not in v and "\n" not in v and "\r" not in v):
        return None
    return f"must be one email address such as passwords@contoso.com (got {v!r})"


def _header_text(v: str) -> str | None:
    return None if not any(ch in v for ch in "\r\n") else "must be one line"


@dataclass(frozen=True, kw_only=True)
class MailSettings:
    host: str = setting("")
    port: int = setting(587, check=checks.between(1, 65535))
    security: str = setting("starttls", check=checks.one_of(("starttls", "tls", "none")))
    username: str = setting("")
    password: str = setting("", secret=True)
    from_address: str = setting("", check=_address)
    from_name: str = setting("", check=_header_text)
    timeout_seconds: int = setting(10, check=checks.between(1, 120))
    ca_file: str = setting("")

    @property
    def configured(self) -> bool:
        return bool(self.host and self.from_address)


@dataclass(frozen=True, kw_only=True)
class OutboxSettings:
    in_process_worker: bool = setting(True)
    # threads delivering at once in each worker, each with its own connection to the mail server
    delivery_threads: int = setting(4, check=checks.between(1, 32))
    poll_seconds: int = setting(15, check=checks.between(1, 3600))
    max_attempts: int = setting(8, check=checks.between(1, 50))
    retry_seconds: int = setting(30, check=checks.between(1, 3600))
    lease_seconds: int = setting(120, check=checks.between(30, 3600))
    keep_days: int = setting(30, check=checks.between(1, 3650))


def cross_checks(mail: MailSettings, outbox: OutboxSettings, sms_timeout_seconds: int) -> list[tuple[str, str]]:
    """A lease shorter than a slow send would let a second worker send the same message again."""
    longest = max(mail.timeout_seconds, sms_timeout_seconds)
    if outbox.lease_seconds < 3 * longest:
        return [("outbox.lease_seconds", f"must be at least 3 times the longest mail or SMS timeout "
                                         f"({3 * longest} s)")]
    return []
