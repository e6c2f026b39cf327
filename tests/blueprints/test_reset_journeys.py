"""The reset and change pages read well without telling accounts apart: steps shown, errors summed
up and linked to their fields, what was typed kept (never a password), unlock offered from the
first page, help when no code arrives, and the rules ready for the page's live checklist."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask

from devstack.mailsink import MailSink
from tests.registration_support import sms_gateway  # noqa: F401
from tests.reset_support import (ANSWERS, Browser, Stack, app, browser, change, code_sent_to,  # noqa: F401
                                 new_browser, register_questions, reset_app, signed_in, stack)

NO_CODE = re.compile(r'<div class="no-code">.*?</div>', re.S)


def test_the_first_page_offers_unlock_as_a_choice_when_unlocking_is_allowed(reset_app: Any) -> None:
    allowed = new_browser(reset_app()).get("/reset/").get_data(as_text=True)
    refused = new_browser(reset_app({"PORTAL_RESET__ALLOW_UNLOCK": "false"})).get("/reset/").get_data(as_text=True)

    assert "I know my password but I'm locked out" in allowed and 'value="unlock"' in allowed
    assert "Step 1 of 3" in allowed and 'id="identifier"' in allowed and "autofocus" in allowed
    assert 'name="intent"' not in refused


def test_someone_who_chose_unlock_gets_unlock_first_after_verifying(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    stack.lock(person)
    browser.submit("/reset/", {"identifier": person.login, "intent": "unlock"})
    assert "Unlock" in browser.get("/reset/verify").get_data(as_text=True)  # the last step's name
    browser.choose("email")
    browser.enter_code(code_sent_to(mailbox, person.alternate_email))

    page = browser.get("/reset/password").get_data(as_text=True)

    assert "<h1 id=\"page-heading\">Unlock your account</h1>" in page
    assert page.index("Unlock my account") < page.index("Set the new password")
    assert browser.submit("/reset/unlock").status_code == 200 and stack.binds(person, person.password)


def test_a_wrong_name_is_summed_up_linked_to_its_field_told_at_it_and_kept(browser: Browser) -> None:
    answer = browser.identify("a" * 300)

    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert 'id="form-errors"' in page and 'href="#identifier"' in page
    assert re.search(r'id="form-errors" tabindex="-1" autofocus', page)  # the summary takes the focus
    assert re.search(r'<p id="identifier-error" class="field-error">[^<]+</p>', page)  # the message at the field
    assert 'aria-describedby="identifier-error" aria-invalid="true"' in page
    assert f'value="{"a" * 300}"' in page


def test_the_no_code_help_is_the_same_for_every_account(reset_app: Any, stack: Stack) -> None:
    app = reset_app()
    known, out_of_scope = stack.add_person(), stack.add_person(groups=())
    seen = []
    for name in (known.login, out_of_scope.login, "nobody-here"):
        browser = new_browser(app)
        browser.identify(name)
        browser.choose("email")
        found = NO_CODE.search(browser.get("/reset/code").get_data(as_text=True))
        assert found
        seen.append(found.group(0))

    assert seen[0] == seen[1] == seen[2]
    assert "Wait up to 5 minutes" in seen[0] and "may not be enabled for self-service reset" in seen[0]
    assert "Contact" in seen[0]


def test_wrong_answers_stay_in_their_fields(app: Flask, stack: Stack, browser: Browser) -> None:
    person = stack.add_person()
    register_questions(app, person)
    browser.identify(person.login)
    browser.choose("questions")

    wrong = browser.answer({})

    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    assert page.count('value="wrong"') == len(re.findall(r'name="answer-', page)) > 0
    assert re.search(r'href="#answer-[a-z0-9-]+"', page)


def test_a_password_error_keeps_no_password_and_points_to_the_field(
        app: Flask, stack: Stack, browser: Browser, mailbox: MailSink) -> None:
    person = stack.add_person()
    browser.identify(person.login)
    browser.choose("email")
    browser.enter_code(code_sent_to(mailbox, person.alternate_email))

    refused = browser.set_password("Quartz tundra violet 77", again="something else entirely")

    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'href="#new_password"' in page
    assert 'id="new_password-error"' in page  # the field reads its own message first, then the rules
    assert 'aria-describedby="new_password-error password-rules" aria-invalid="true"' in page
    assert "Quartz tundra" not in page and "something else" not in page
    assert re.search(r'<li data-check="length" data-low="\d+" data-high="\d+">', page)  # for the checklist
    assert 'data-check="match"' in page and "data-show-password" in page


def test_the_checklist_script_is_a_file_the_policy_allows(app: Flask, browser: Browser) -> None:
    page = browser.get("/reset/")
    script = browser.client.get("/static/portal.js")

    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert re.findall(r"<script[^>]*>", page.get_data(as_text=True)) == [
        '<script src="/static/portal.js" defer>']
    assert script.status_code == 200 and "javascript" in script.mimetype


def test_a_signed_in_person_outside_the_rollout_is_told_plainly(
        app: Flask, stack: Stack, browser: Browser, slapd: Any) -> None:
    person = stack.add_person(groups=())
    signed_in(browser, stack, person, slapd)

    page = browser.get("/reset/").get_data(as_text=True)

    assert "Self-service password reset is not enabled for you" in page
    assert person.login in page and 'name="identifier"' not in page


def test_a_signed_in_person_in_the_rollout_gets_the_form(app: Flask, stack: Stack, browser: Browser,
                                                        slapd: Any) -> None:
    person = stack.add_person()
    signed_in(browser, stack, person, slapd)
    assert 'name="identifier"' in browser.get("/reset/").get_data(as_text=True)


def test_the_change_form_keeps_the_login_name_and_never_a_password(app: Flask, stack: Stack,
                                                                   browser: Browser) -> None:
    person = stack.add_person()
    refused = change(browser, "not my password", login=person.login)

    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert f'value="{person.login}"' in page and 'href="#login"' in page
    assert "not my password" not in page
