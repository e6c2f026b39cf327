"""Limits are counted before they are compared: however many tries arrive at once, in threads or in
separate portal processes, a code is compared at most max_attempts times, the account's guard
counts every failure exactly once, and one failure pauses the account and sends one mail.
The questions of a flow are drawn once: choosing them again asks the same ones, for a real
account and for a name that matches nobody, and leaving them unanswered counts as a failure."""
from __future__ import annotations

import re
import uuid
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from devstack.mailsink import MailSink
from portal.store.flows import AccountGuard
from portal.store.security_info import OneTimeCode
from tests.parallel_support import at_once, in_processes
from tests.registration_support import SmsGatewayServer, sms_gateway  # noqa: F401
from tests.reset_support import (ANSWERS, Browser, Person, Stack, audit_events, code_sent_to,  # noqa: F401
                                 new_browser, register_questions, reset_app, stack)
from tests.store_support import postgres_url  # noqa: F401

pytestmark = pytest.mark.parametrize("stack", ["slapd"], indirect=True)
PARALLEL = 50
NO_WORKER = {"PORTAL_OUTBOX__IN_PROCESS_WORKER": "false"}  # the test delivers, then counts every mail


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> dict[str, str]:
    """The portal's database: its own SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return {}
    return {"PORTAL_DATABASE__URL": request.getfixturevalue("postgres_url")}


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def code_flow(app: Flask, mailbox: MailSink, person: Person) -> tuple[Browser, dict[str, str]]:
    """A flow waiting for the mailed code, and the form data of a wrong code for it."""
    browser = new_browser(app)
    browser.identify(person.login)
    browser.choose("email")
    app.extensions["outbox"].deliver_due()
    code = code_sent_to(mailbox, person.alternate_email)
    return browser, {"csrf_token": browser.client.csrf_token("/reset/code"), "code": wrong(code)}


def tries_of_codes(app: Flask) -> list[int]:
    """How often each code was counted: every comparison is counted first."""
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(OneTimeCode.attempts).order_by(OneTimeCode.id)))


def pause_mails(app: Flask, mailbox: MailSink, person: Person) -> int:
    app.extensions["outbox"].deliver_due()
    return sum(1 for m in mailbox.messages() if m["To"] == person.alternate_email and "paused" in m["Subject"])


def reasons(app: Flask, event: str) -> Counter[str | None]:
    return Counter(e.reason for e in audit_events(app, event) if e.event == event)


def guard_failures(app: Flask) -> list[int]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(AccountGuard.failures).where(AccountGuard.key.startswith("reset-verify:"))))


def assert_code_compared_five_times_and_paused_once(app: Flask, mailbox: MailSink, person: Person,
                                                    statuses: list[int]) -> None:
    """max_attempts 5, max_failed_verifications 50: the code stops being compared after 5 tries,
    and the 50th failure (every one of them counted) pauses the account, once."""
    assert tries_of_codes(app) == [5]
    assert reasons(app, "code.failed") == {"wrong": 4, "spent": 1, "missing": PARALLEL - 5}
    assert Counter(statuses) == {400: PARALLEL - 1, 429: 1}
    assert reasons(app, "reset.paused") == {"too_many_failures": 1}
    assert pause_mails(app, mailbox, person) == 1


def test_parallel_wrong_codes_in_threads_compare_at_most_max_attempts_and_pause_once(
        reset_app: Any, stack: Stack, mailbox: MailSink, database: dict[str, str]) -> None:
    app = reset_app({**database, **NO_WORKER, "PORTAL_RESET__MAX_FAILED_VERIFICATIONS": str(PARALLEL)})
    person = stack.add_person()
    browser, form = code_flow(app, mailbox, person)

    statuses = at_once(app, browser.client.session_cookie or "", "/reset/code", form, PARALLEL)

    assert_code_compared_five_times_and_paused_once(app, mailbox, person, statuses)


def test_parallel_wrong_codes_across_processes_on_postgresql_compare_at_most_max_attempts_and_pause_once(
        reset_app: Any, stack: Stack, mailbox: MailSink, postgres_url: str) -> None:  # noqa: F811
    app = reset_app({"PORTAL_DATABASE__URL": postgres_url, **NO_WORKER,
                     "PORTAL_RESET__MAX_FAILED_VERIFICATIONS": str(PARALLEL)})
    person = stack.add_person()
    browser, form = code_flow(app, mailbox, person)

    statuses = in_processes(app.extensions["settings"], browser.client.session_cookie or "", "/reset/code", form,
                            processes=5, threads=PARALLEL // 5)

    assert_code_compared_five_times_and_paused_once(app, mailbox, person, statuses)


def test_parallel_wrong_codes_are_compared_only_while_the_guard_admits_them(
        reset_app: Any, stack: Stack, mailbox: MailSink, database: dict[str, str]) -> None:
    """max_failed_verifications 5 below a code's 10 tries: the guard is the limit, and after the
    failure that pauses, nothing more is compared."""
    app = reset_app({**database, **NO_WORKER, "PORTAL_RESET__MAX_FAILED_VERIFICATIONS": "5",
                     "PORTAL_CODES__MAX_ATTEMPTS": "10"})
    person = stack.add_person()
    browser, form = code_flow(app, mailbox, person)

    statuses = at_once(app, browser.client.session_cookie or "", "/reset/code", form, PARALLEL)

    assert tries_of_codes(app) == [5]
    assert reasons(app, "code.failed") == {"wrong": 5}
    counted = Counter(e.outcome for e in audit_events(app, "reset.verify"))
    assert counted["failure"] == 5
    assert Counter(statuses)[400] == 4 and Counter(statuses)[429] == 1 + counted["refused"]
    assert set(statuses) <= {400, 409, 429}  # 409: loaded after the pause had ended the flow
    assert reasons(app, "reset.paused") == {"too_many_failures": 1}
    assert pause_mails(app, mailbox, person) == 1


# -- security questions: drawn once per flow, showing them is an attempt ---------------------------

def asked(browser: Browser) -> list[str]:
    return re.findall(r'name="answer-([a-z0-9-]+)"', browser.get("/reset/questions").get_data(as_text=True))


@pytest.fixture(params=["real account", "unknown name"])
def name(request: pytest.FixtureRequest, stack: Stack) -> tuple[str, Person]:
    """Who the flow is for; the person has security questions either way (a decoy gets its own)."""
    person = stack.add_person()
    return (person.login if request.param == "real account" else f"nobody-{uuid.uuid4().hex[:8]}"), person


def test_choosing_questions_again_asks_the_same_ones(reset_app: Any, stack: Stack, name: tuple[str, Person]) -> None:
    app = reset_app({"PORTAL_RESET__MAX_FAILED_VERIFICATIONS": "20"})
    typed, person = name
    register_questions(app, person)
    browser = new_browser(app)
    browser.identify(typed)

    seen = []
    for _ in range(6):  # 6 ordered pairs can be drawn from 3 questions: by chance, all alike 1 in 7,776
        assert browser.choose("questions").status_code == 303
        seen.append(asked(browser))
        assert browser.choose("totp").status_code == 303  # leave them for another method, then come back
    assert len(seen[0]) == 2 and all(each == seen[0] for each in seen)


def test_questions_left_unanswered_count_as_a_failed_attempt(
        reset_app: Any, stack: Stack, name: tuple[str, Person]) -> None:
    app = reset_app({"PORTAL_RESET__MAX_FAILED_VERIFICATIONS": "3"})
    typed, person = name
    register_questions(app, person)
    browser = new_browser(app)
    browser.identify(typed)
    browser.choose("questions")
    browser.choose("questions")  # came back to them: the first showing was left unanswered
    browser.choose("email")      # and left again

    assert browser.enter_code("000000").status_code == 429  # the third failure pauses
    assert reasons(app, "reset.paused") == {"too_many_failures": 1}


def test_each_answer_is_one_attempt_and_a_right_one_costs_nothing(reset_app: Any, stack: Stack) -> None:
    app = reset_app({"PORTAL_RESET__MAX_FAILED_VERIFICATIONS": "4"})
    person = stack.add_person()
    register_questions(app, person)
    browser = new_browser(app)
    browser.identify(person.login)
    browser.choose("questions")

    # showing them and the first answer are one attempt, not two
    assert [browser.answer({}).status_code for _ in range(2)] == [400, 400]
    assert browser.answer(ANSWERS).status_code == 303
    assert guard_failures(app) == [2]
    other = new_browser(app)
    other.identify(person.login)
    other.choose("email")
    assert [other.enter_code("000000").status_code for _ in range(2)] == [400, 429]


def test_parallel_answers_to_questions_just_shown_are_each_counted(
        reset_app: Any, stack: Stack, database: dict[str, str]) -> None:
    """The count made when they were shown belongs to one answer only: a parallel answer that
    also saw it compares nothing (409), or is counted on its own."""
    app = reset_app({**database, "PORTAL_RESET__MAX_FAILED_VERIFICATIONS": "50"})
    person = stack.add_person()
    register_questions(app, person)
    browser = new_browser(app)
    browser.identify(person.login)
    browser.choose("questions")
    form = {"csrf_token": browser.client.csrf_token("/reset/questions"),
            **{f"answer-{key}": "wrong" for key in asked(browser)}}

    statuses = at_once(app, browser.client.session_cookie or "", "/reset/questions", form, 10)

    compared = len(audit_events(app, "questions.failed"))
    assert compared >= 1 and guard_failures(app) == [compared]
    assert Counter(statuses) == {400: compared, 409: 10 - compared}
