"""What the administration, campaign, report and reminder tests share: settings and helpers."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from devstack.mailsink import MailSink
from devstack.oidc_provider import OidcProvider
from devstack.ports import TEST
from portal.services.campaigns.campaigns import Progress
from tests.support import BASE_URL, MAIL_TOML

ADMIN = "erin"          # in portal-admins at the provider
NOT_ADMIN = "dave"      # staff only
POLICY_DN = "cn=people,ou=policies,dc=example,dc=test"


def admin_toml(*, rollout: str = 'reset = "everybody"', per_minute: int = 100_000, tables: str = "") -> str:
    """Mail to the dev stack's SMTP sink, administrators = portal-admins, a fast campaign throttle."""
    return f"""
[admin]
groups = ["Portal-Admins"]

[rollout]
{rollout}

[campaigns]
messages_per_minute = {per_minute}

{MAIL_TOML}
{tables}
"""


def directory_environ(base_dn: str) -> dict[str, str]:
    """Point the portal at one subtree of the test slapd (tests keep their people apart)."""
    return {"PORTAL_DIRECTORY__BASE_DN": base_dn, "PORTAL_DIRECTORY__PASSWORD_POLICY_DN": POLICY_DN}


@pytest.fixture
def admin_app(make_app: Callable[..., Flask], oidc_provider: OidcProvider, mailbox: MailSink) -> Callable[..., Flask]:
    def build(environ: dict[str, str] | None = None, **toml: Any) -> Flask:
        return make_app(admin_toml(**toml), environ=environ)
    return build


def refresh_standings(app: Flask) -> str:
    """`reports refresh`, as the timer runs it: the standings that reports and audiences count."""
    result = app.test_cli_runner().invoke(args=["reports", "refresh"])
    assert result.exit_code == 0, result.output
    return str(result.output)


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None, *, token_from: str = "/",
         **kwargs: Any) -> Any:
    """POST as the browser would, with the session's CSRF token (read from the page `token_from`)."""
    return client.post(path, data={"csrf_token": client.csrf_token(token_from), **(data or {})}, **kwargs)


def location(response: Any) -> str:
    return response.headers["Location"].removeprefix(BASE_URL)


def progress_of(app: Flask, campaign_id: int) -> Progress:
    from portal.services.campaigns.campaigns import progress
    from portal.store import get_store

    with app.app_context(), get_store().transaction() as db:
        return progress(db, campaign_id)
