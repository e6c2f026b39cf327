"""An address that overdoes the reset's first steps must solve a proof-of-work (ALTCHA) first.

Below [reset.challenge] after_attempts an hour nothing changes; above it the identify and send-code
pages carry the widget and those steps are refused without a valid, unexpired, unused solution,
the same for every account. The counter and the used solutions live in the limiter's storage:
the tests run in memory and in Redis (that this storage holds across processes is shown by
tests/deploy/test_scale_out.py). Solutions are found here in Python, with cost 1.
"""
from __future__ import annotations

import html
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import altcha
import pytest
from flask import Flask

from devstack.slapd import Slapd
from portal.services.security import challenge
from tests.registration_support import sms_gateway  # noqa: F401 - fixture
from tests.reset_support import Browser, SlapdStack, Stack, new_browser, reset_app  # noqa: F401 - fixtures
from tests.support import SECRET_KEY

REDIS = "redis://127.0.0.1:6379/15"
AFTER = 2
CHALLENGE = re.compile(r'<altcha-widget challenge="([^"]+)"')
REFUSED = "The check was not done or has expired."


@pytest.fixture
def stack(slapd: Slapd) -> Stack:
    """One directory is enough: the challenge never looks at the account."""
    return SlapdStack(slapd)


@pytest.fixture(params=["memory://", REDIS])
def app(request: pytest.FixtureRequest, reset_app: Callable[..., Flask]) -> Flask:
    environ = {"PORTAL_RATE_LIMITS__STORAGE_URI": request.param,
               "PORTAL_RATE_LIMITS__KEY_PREFIX": f"challenge{uuid.uuid4().hex}",
               "PORTAL_RESET__CHALLENGE__ENABLED": "true", "PORTAL_RESET__CHALLENGE__AFTER_ATTEMPTS": str(AFTER),
               "PORTAL_RESET__CHALLENGE__COST": "1"}
    return reset_app(environ)


def shown(page: Any) -> altcha.Challenge | None:
    found = CHALLENGE.search(page.get_data(as_text=True))
    return altcha.Challenge.from_dict(json.loads(html.unescape(found.group(1)))) if found else None


def solved(puzzle: altcha.Challenge) -> str:
    """What the widget puts in its hidden field: the challenge and the counter found by brute force."""
    solution = altcha.solve_challenge(puzzle)
    assert solution is not None
    return altcha.Payload(puzzle, solution).to_base64()


def over_the_threshold(app: Flask) -> Browser:
    browser = new_browser(app)
    for n in range(AFTER):
        assert shown(browser.get("/reset/")) is None
        assert browser.identify(f"nobody-{n}-{uuid.uuid4().hex[:6]}").status_code == 303
    return browser


def identify_solved(browser: Browser, name: str) -> Any:
    puzzle = shown(browser.get("/reset/"))
    assert puzzle is not None
    return browser.submit("/reset/", {"identifier": name, challenge.FIELD: solved(puzzle)})


def test_below_the_threshold_there_is_no_challenge_and_above_it_the_widget_is_served(app: Flask) -> None:
    browser = over_the_threshold(app)
    page = browser.get("/reset/").get_data(as_text=True)
    assert "<altcha-widget" in page and "vendor/altcha-3.2.2/altcha.min.js" in page
    assert "This check needs JavaScript" in page
    assert browser.get("/static/vendor/altcha-3.2.2/altcha.min.js").status_code == 200


def test_identify_is_refused_without_a_solution_and_accepted_with_one(app: Flask) -> None:
    browser = over_the_threshold(app)
    refused = browser.identify("someone")
    assert refused.status_code == 400 and REFUSED in browser.text and shown(refused) is not None
    assert identify_solved(browser, "someone").status_code == 303


def test_a_solution_is_good_once(app: Flask) -> None:
    browser = over_the_threshold(app)
    puzzle = shown(browser.get("/reset/"))
    assert puzzle is not None
    payload = solved(puzzle)
    assert browser.submit("/reset/", {"identifier": "someone", challenge.FIELD: payload}).status_code == 303
    assert browser.submit("/reset/", {"identifier": "someone", challenge.FIELD: payload}).status_code == 400
    assert REFUSED in browser.text


def test_an_expired_or_forged_solution_is_refused(app: Flask) -> None:
    browser = over_the_threshold(app)
    expired = altcha.create_challenge(challenge.ALGORITHM, 1, expires_at=int(time.time()) - 1,
                                      hmac_secret=challenge._hmac_key(SECRET_KEY))
    forged = altcha.create_challenge(challenge.ALGORITHM, 1, hmac_secret=b"not the portal's key")
    for puzzle in (expired, forged):
        assert browser.submit("/reset/", {"identifier": "someone", challenge.FIELD: solved(puzzle)}).status_code == 400
    assert browser.submit("/reset/", {"identifier": "someone", challenge.FIELD: "not base64 at all"}).status_code == 400


def test_sending_a_code_needs_a_solution_too_and_the_page_is_the_same_for_every_account(app: Flask,
                                                                                     stack: Stack) -> None:
    person = stack.add_person()
    over_the_threshold(app)
    pages = []
    for name in (person.login, f"nobody-{uuid.uuid4().hex[:8]}"):
        browser = new_browser(app)  # from the same address, so over the threshold too
        assert identify_solved(browser, name).status_code == 303
        refused = browser.choose("email")
        assert refused.status_code == 400 and REFUSED in browser.text
        pages.append(re.sub(r'(challenge|csrf_token" value)="[^"]+"', "", browser.text))
        puzzle = shown(browser.get("/reset/verify"))
        assert puzzle is not None
        chosen = browser.submit("/reset/verify", {"method": "email", challenge.FIELD: solved(puzzle)})
        assert chosen.status_code == 303
    assert pages[0] == pages[1]
