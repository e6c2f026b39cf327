"""[[webhooks]] is checked at start-up: where it may post, which events exist, the secret's format
and where the secret comes from; each problem is one line naming the file (or variable) and key."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from portal.services.reporting.settings_view import effective_settings
from portal.settings import load_settings
from tests.settings.test_settings import problems_of, valid, write  # noqa: F401 - fixtures
from tests.webhook_support import new_secret

SECRET = new_secret()


def endpoint(url: str = "https://siem.example.test/hooks", events: str = '["password.reset"]',
             secret: str | None = SECRET, more: str = "") -> str:
    line = f'secret = "{secret}"\n' if secret is not None else ""
    return f'[[webhooks]]\nurl = "{url}"\nevents = {events}\n{line}{more}'


def test_endpoints_load_with_their_events_and_secret(valid: Callable[[str], Path]) -> None:
    settings = load_settings(valid(endpoint() + endpoint("http://127.0.0.1:9000/h", '["reset.paused"]')), {})
    assert [(e.url, e.events, e.secret, e.timeout_seconds) for e in settings.webhooks] == [
        ("https://siem.example.test/hooks", ["password.reset"], SECRET, 5),
        ("http://127.0.0.1:9000/h", ["reset.paused"], SECRET, 5)]


def test_a_secret_without_base64_padding_is_accepted(valid: Callable[[str], Path]) -> None:
    unpadded = SECRET.rstrip("=")
    assert unpadded != SECRET  # 32 bytes: base64 ends in "="
    assert load_settings(valid(endpoint(secret=unpadded)), {}).webhooks[0].secret == unpadded


def test_the_secret_can_come_from_the_environment(valid: Callable[[str], Path]) -> None:
    path = valid(endpoint(secret=None, more='secret_env = "SIEM_HOOK_SECRET"\n'))
    assert load_settings(path, {"SIEM_HOOK_SECRET": SECRET}).webhooks[0].secret == SECRET
    assert problems_of(path) == [f"{path}: webhooks[0].secret_env: names SIEM_HOOK_SECRET, which is not set "
                                 "in the environment"]


@pytest.mark.parametrize(("table", "expected"), [
    (endpoint("http://siem.example.test/hooks"), "webhooks[0].url: must use https:// (http:// is allowed only "
                                                 "for 127.0.0.1 or localhost"),
    (endpoint("ftp://siem.example.test/"), "webhooks[0].url: must be an absolute https:// URL"),
    (endpoint(events='["password.reset", "password.stolen"]'),
     "webhooks[0].events: must be one of password.reset, password.changed, account.unlocked, "
     "registration.changed, reset.paused, enforcement.deadline_passed (got 'password.stolen')"),
    (endpoint(events="[]"), "webhooks[0].events: must not be empty"),
    (endpoint(secret="s3cr3t"), "webhooks[0].secret: must be whsec_ followed by the base64 of 24 to 64 random bytes"),
    (endpoint(secret="whsec_c2hvcnQ="), "webhooks[0].secret: must be whsec_ followed by the base64"),
    (endpoint(secret="whsec_not base64!"), "webhooks[0].secret: must be whsec_ followed by the base64"),
    (endpoint(secret=None), "webhooks[0].secret: is required (or secret_env"),
    (endpoint(more='secret_env = "X"\n'), "webhooks[0].secret: give secret or secret_env, not both"),
    (endpoint(secret=None, more='secret_env = "PORTAL_SECRET_KEY"\n'), "webhooks[0].secret_env: must not start with PORTAL_"),
    (endpoint(more="timeout_seconds = 30\n"), "webhooks[0].timeout_seconds: must be between 1 and 10 (got 30)"),
    (endpoint(more='header = "x"\n'), "webhooks[0].header: unknown key"),
])
def test_a_wrong_endpoint_stops_the_portal_with_one_line(valid: Callable[[str], Path], table: str,
                                                         expected: str) -> None:
    path = valid(table)
    found = problems_of(path, {"PORTAL_SECRET_KEY": "k" * 40})
    assert any(p.startswith(f"{path}: {expected}") for p in found), found


def test_the_settings_page_hides_each_endpoint_s_secret(valid: Callable[[str], Path]) -> None:
    shown = dict(effective_settings(load_settings(valid(endpoint() + endpoint()), {})))
    assert shown["webhooks[0].secret"] == shown["webhooks[1].secret"] == "(hidden)"
    assert shown["webhooks[1].url"] == '"https://siem.example.test/hooks"'
    assert SECRET not in repr(shown)
