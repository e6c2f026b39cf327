"""Someone who knows only a name learns nothing: not whether it exists, nor whether it can reset.

Every kind of account (one that can reset, out of the rollout scope, disabled, without methods,
protected, a name nobody has, a name two accounts have) gets the same answers, cookies and
redirects at every step before a method passes, in the same time; and the pause after failed
verifications looks the same for a real account and for a name that matches nobody.
"""
from __future__ import annotations

import re
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from devstack.mailsink import MailSink
from portal import clock
from portal.services.container import collaborators
from portal.services.registration import reregistration, snooze
from tests.registration_support import SmsGatewayServer, sms_gateway  # noqa: F401
from tests.reset_support import (Browser, Person, Stack, app, audit_events, code_sent_to, mails_to,  # noqa: F401
                                 new_browser, reset_app, stack)

TOKEN = re.compile(r'name="csrf_token" value="[^"]+"')


def normalized(body: str) -> str:
    return TOKEN.sub('name="csrf_token" value=""', body)


def cookie_shape(answer: Any) -> list[str]:
    """Set-Cookie headers without their values: names and attributes must match."""
    return sorted(re.sub(r"=[^;]*;", "=;", header, count=1) for header in answer.headers.getlist("Set-Cookie"))


def walk(app: Flask, name: str) -> list[Any]:
    """Everything a stranger sees for `name`, up to a wrong code."""
    browser = new_browser(app)
    identify = browser.identify(name)
    seen: list[Any] = [identify.status_code, identify.headers.get("Location"), cookie_shape(identify)]
    verify = browser.get("/reset/verify")
    seen += [verify.status_code, normalized(verify.get_data(as_text=True))]
    for method in ("email", "phone", "totp"):
        chosen = browser.choose(method)
        page = browser.get("/reset/code")
        wrong = browser.enter_code("000000")
        seen += [chosen.status_code, chosen.headers.get("Location"), cookie_shape(chosen),
                 page.status_code, normalized(page.get_data(as_text=True)),
                 wrong.status_code, normalized(wrong.get_data(as_text=True))]
    chosen = browser.choose("questions")
    questions = browser.get("/reset/questions")
    seen += [chosen.status_code, chosen.headers.get("Location"), questions.status_code,
             len(re.findall(r'name="answer-', questions.get_data(as_text=True)))]
    skipped = browser.get("/reset/password")
    seen += [skipped.status_code, normalized(skipped.get_data(as_text=True))]
    return seen


def test_every_kind_of_account_gets_the_same_answers(reset_app: Any, stack: Stack) -> None:
    can_reset = stack.add_person()
    out_of_scope = stack.add_person(groups=())
    disabled = stack.add_person()
    stack.disable(disabled)
    without_methods = stack.add_person(with_methods=False)
    protected = stack.add_person()
    shared = f"shared-{uuid.uuid4().hex[:10]}@example.test"  # one address, two accounts: ambiguous
    for _ in range(2):
        stack.add_person(mail=shared)
    app = reset_app({"PORTAL_DIRECTORY__PROTECTED_ACCOUNTS": f'["{protected.login}"]'})
    names = {"can reset": can_reset.login, "out of scope": out_of_scope.login, "disabled": disabled.login,
             "no methods": without_methods.login, "protected": protected.login, "unknown": "nobody-here",
             "unknown email": "nobody@example.test", "ambiguous": shared}

    seen = {kind: walk(app, name) for kind, name in names.items()}

    reference = seen.pop("can reset")
    for kind, answers in seen.items():
        assert answers == reference, f"{kind} answered differently"
    reasons = {e.reason for e in audit_events(app, "reset.identify")}
    assert reasons == {None, "out_of_scope", "disabled", "no_methods", "protected", "unknown_account"}
    # a refused step names the account the flow was started for: on the trail only, never on the page
    refused_for = {e.username for e in audit_events(app, "reset.step_refused")}
    assert refused_for == {can_reset.login, out_of_scope.login, disabled.login, without_methods.login,
                           protected.login, None}


def test_enforcement_state_changes_nothing_a_stranger_sees(reset_app: Any, stack: Stack) -> None:
    """A person IT asked to re-register, who then used "not now", looks like everyone else."""
    plain, asked = stack.add_person(), stack.add_person()
    app = reset_app()
    with app.app_context():
        c = collaborators(app)
        reregistration.for_person(c, asked.login, by="erin")
        user = c.directory.find_user(asked.login)
        assert user is not None and snooze.snooze(c, user, "requested").allowed

    reference = walk(app, plain.login)
    assert walk(app, asked.login) == reference
    assert walk(app, "nobody-here") == reference


@pytest.mark.parametrize("stack", ["slapd"], indirect=True)
def test_known_and_unknown_names_take_the_same_time(reset_app: Any, stack: Stack) -> None:
    """A few hundred tries, interleaved so load on the machine hits both alike; medians compared."""
    person = stack.add_person()
    app = reset_app({"PORTAL_RESET__MIN_RESPONSE_MS": "25", "PORTAL_RESET__IDENTIFY_PER_ACCOUNT_PER_HOUR": "1000"})
    browser = new_browser(app)
    token = browser.client.csrf_token("/reset/")
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for attempt in range(150):
        for kind, name in (("known", person.login), ("unknown", f"nobody-{attempt}")):
            started = time.perf_counter()
            answer = browser.client.post("/reset/", data={"csrf_token": token, "identifier": name})
            times[kind].append(time.perf_counter() - started)
            assert answer.status_code == 303

    known, unknown = (statistics.median(times[k]) for k in ("known", "unknown"))
    assert min(known, unknown) >= 0.025
    assert abs(known - unknown) < 0.003, f"median known {known * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms"


@pytest.mark.parametrize("stack", ["samba"], indirect=True)
def test_the_floor_holds_on_active_directory_where_lookups_cost_more(reset_app: Any, stack: Stack) -> None:
    person = stack.add_person()
    app = reset_app({"PORTAL_RESET__MIN_RESPONSE_MS": "300"})
    browser = new_browser(app)
    token = browser.client.csrf_token("/reset/")
    for name in (person.login, "nobody-here") * 3:
        started = time.perf_counter()
        browser.client.post("/reset/", data={"csrf_token": token, "identifier": name})
        assert time.perf_counter() - started >= 0.3


@pytest.fixture
def pausing_app(reset_app: Any) -> Flask:
    return reset_app({"PORTAL_RESET__MAX_FAILED_VERIFICATIONS": "3", "PORTAL_RESET__PAUSE_MINUTES": "60"})


def fail_codes(browser: Browser, name: str, times: int) -> Any:
    browser.identify(name)
    browser.choose("email")
    for _ in range(times):
        answer = browser.enter_code("000000")
    return answer


def test_failed_verifications_pause_the_account_and_tell_its_owner(
        pausing_app: Flask, stack: Stack, mailbox: MailSink) -> None:
    person = stack.add_person()
    browser = new_browser(pausing_app)
    fail_codes(browser, person.login, 2)
    # the third failure comes through another alias in another browser: they count together
    paused = fail_codes(new_browser(pausing_app), f"{person.login}@example.test", 1)

    assert paused.status_code == 429 and "paused" in paused.get_data(as_text=True)
    assert "Password reset paused" in mails_to(mailbox, person.alternate_email, "paused")["Subject"]
    assert browser.enter_code("000000").status_code == 409  # the other open flow ended too
    assert new_browser(pausing_app).identify(person.login).status_code == 429
    with clock.travel(timedelta(minutes=61)):
        assert new_browser(pausing_app).identify(person.login).status_code == 303
    assert [e.reason for e in audit_events(pausing_app, "reset.paused")] == ["too_many_failures"]


def test_an_unknown_name_is_paused_with_the_same_answer(pausing_app: Flask, stack: Stack) -> None:
    person = stack.add_person()
    real = fail_codes(new_browser(pausing_app), person.login, 3)
    fake = fail_codes(new_browser(pausing_app), "nobody-at-all", 3)

    assert (real.status_code, normalized(real.get_data(as_text=True))) == \
        (fake.status_code, normalized(fake.get_data(as_text=True)))
    again = [new_browser(pausing_app).identify(name) for name in (person.login, "nobody-at-all")]
    assert [a.status_code for a in again] == [429, 429]
    assert normalized(again[0].get_data(as_text=True)) == normalized(again[1].get_data(as_text=True))


def test_names_per_account_are_limited_across_aliases(reset_app: Any, stack: Stack) -> None:
    app = reset_app({"PORTAL_RESET__IDENTIFY_PER_ACCOUNT_PER_HOUR": "3"})
    person = stack.add_person()
    browser = new_browser(app)
    for name in (person.login, f"{person.login}@example.test", person.login.upper()):
        assert browser.identify(name).status_code == 303
    assert browser.identify(person.alternate_email).status_code == 429
    assert audit_events(app, "reset.identify")[-1].reason == "rate_limited"


def test_names_that_match_nobody_count_together_across_case_and_width(reset_app: Any, stack: Stack) -> None:
    """The lookup never folds a name; the limits do: variants of one unknown name share a budget."""
    app = reset_app({"PORTAL_RESET__IDENTIFY_PER_ACCOUNT_PER_HOUR": "2"})
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name)
    browser = new_browser(app)
    assert [browser.identify(n).status_code for n in (name, name.upper(), fullwidth)] == [303, 303, 429]
    assert audit_events(app, "reset.identify")[-1].reason == "rate_limited"


def test_with_rollout_to_nobody_reset_points_to_the_help_desk(reset_app: Any, stack: Stack) -> None:
    app = reset_app({"PORTAL_ROLLOUT__RESET": "nobody"})
    browser = new_browser(app)
    page = browser.get("/reset/")
    assert page.status_code == 200 and "contact" in page.get_data(as_text=True)
    assert browser.client.get("/").status_code == 200
    assert browser.client.get("/change/").status_code == 200
