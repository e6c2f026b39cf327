"""A reset lives in the database, not in a process: it survives a restart, moves between portal
processes and keeps one writer per account on PostgreSQL. Its limits across separate processes
(through Redis) are shown in tests/deploy/test_scale_out.py."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from devstack.mailsink import MailSink
from tests.registration_support import SmsGatewayServer, sms_gateway  # noqa: F401
from tests.reset_support import (NEW_PASSWORD, Stack, code_sent_to, new_browser, reset_app, stack,  # noqa: F401
                                 verified_by_email)
from tests.store_support import postgres_url  # noqa: F401

SECOND_PASSWORD = "Quartz tundra, violet 77 jigsaw"
pytestmark = pytest.mark.parametrize("stack", ["slapd"], indirect=True)


def test_a_reset_started_in_one_process_finishes_in_another(
        reset_app: Any, stack: Stack, mailbox: MailSink, postgres_url: str) -> None:  # noqa: F811
    environ = {"PORTAL_DATABASE__URL": postgres_url}
    first, person = new_browser(reset_app(environ)), stack.add_person()
    first.identify(person.login)
    first.choose("email")

    restarted = new_browser(reset_app(environ))  # a new process on the same database
    restarted.client.use_session_cookie(first.client.session_cookie or "")
    assert restarted.enter_code(code_sent_to(mailbox, person.alternate_email)).status_code == 303
    assert restarted.set_password(NEW_PASSWORD).status_code == 200
    assert stack.binds(person, NEW_PASSWORD)


def test_parallel_resets_in_two_processes_on_postgresql_exactly_one_wins(
        reset_app: Any, stack: Stack, mailbox: MailSink, postgres_url: str) -> None:  # noqa: F811
    environ = {"PORTAL_DATABASE__URL": postgres_url}
    person = stack.add_person()
    browsers = [new_browser(reset_app(environ)), new_browser(reset_app(environ))]
    for nth, browser in enumerate(browsers, start=1):
        verified_by_email(browser, mailbox, person, nth)
    tokens = [b.client.csrf_token("/reset/password") for b in browsers]
    start, statuses = threading.Barrier(2), {}

    def submit(index: int, password: str) -> None:
        start.wait()
        statuses[password] = browsers[index].client.post("/reset/password", data={
            "csrf_token": tokens[index], "new_password": password, "new_password_again": password}).status_code

    threads = [threading.Thread(target=submit, args=pair) for pair in ((0, NEW_PASSWORD), (1, SECOND_PASSWORD))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(statuses.values()) == [200, 409]
    winner = next(password for password, status in statuses.items() if status == 200)
    assert stack.binds(person, winner)


def test_names_per_ip_are_limited(reset_app: Any, stack: Stack) -> None:
    browser = new_browser(reset_app({"PORTAL_RESET__IDENTIFY_PER_IP_PER_HOUR": "3"}))
    assert [browser.identify(f"nobody-{n}").status_code for n in range(4)] == [303, 303, 303, 429]


@pytest.mark.parametrize("typed", ["alice\u200b", "al\x00ice", "ali ce", "\u202eecila", "x" * 300, ""])
def test_names_with_control_or_format_characters_are_refused(reset_app: Any, stack: Stack, typed: str) -> None:
    browser = new_browser(reset_app())
    answer = browser.identify(typed)
    assert answer.status_code == 400 and "user name or your work email" in browser.text
    assert browser.get("/reset/verify").status_code == 409  # no flow was started
