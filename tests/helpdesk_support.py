"""What the help-desk tests share: a portal with agents = sspr-pilot, and the agent's browser."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from devstack.mailsink import MailSink
from tests.conftest import PortalClient
from tests.reset_support import Person, code_sent_to

AGENT = "carol"       # sspr-pilot at the provider
NOT_AGENT = "dave"    # staff only
AGENT_GROUPS = '["sspr-pilot"]'


def helpdesk_tables(**keys: int | str) -> str:
    extra = "\n".join(f"{key} = {value!r}" if isinstance(value, int) else f'{key} = "{value}"'
                      for key, value in keys.items())
    return f"""
[helpdesk]
groups = {AGENT_GROUPS}
{extra}
"""


@pytest.fixture
def app(reset_app: Callable[..., Flask], request: pytest.FixtureRequest) -> Flask:
    """Overrides reset_support's `app`: the reset portal of this test's stack, with a help desk;
    parametrized indirectly, with [helpdesk] limits."""
    return reset_app(tables=helpdesk_tables(**getattr(request, "param", {})))


class Desk:
    """The agent's browser on /helpdesk: each form posted with the page's CSRF token."""

    def __init__(self, client: PortalClient) -> None:
        self.client = client
        self.last: Any = None

    def post(self, path: str, data: dict[str, str] | None = None) -> Any:
        token = self.client.csrf_token("/")
        self.last = self.client.post(f"/helpdesk{path}", data={"csrf_token": token, **(data or {})})
        return self.last

    def page(self) -> str:
        self.last = self.client.get("/helpdesk/")
        return str(self.last.get_data(as_text=True))

    def look_up(self, name: str) -> Any:
        return self.post("/lookup", {"query": name})

    def method_keys(self) -> list[str]:
        return re.findall(r'name="method" value="([a-z]+-[a-z]+|totp)"', self.page())

    def send(self, key: str) -> Any:
        return self.post("/send", {"method": key})

    def check(self, code: str) -> Any:
        return self.post("/check", {"code": code})

    def verified_by_email(self, mailbox: MailSink, person: Person, nth_code: int = 1) -> Any:
        self.look_up(person.login)
        self.send("email-directory")
        return self.check(code_sent_to(mailbox, person.alternate_email, nth_code))

    @property
    def text(self) -> str:
        return str(self.last.get_data(as_text=True))


@pytest.fixture
def desk(client: PortalClient) -> Desk:
    return Desk(client)
