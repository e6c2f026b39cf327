"""Reset's steps called as plain functions: the app's Collaborators and values, no request, no client.

A step's signature is everything it touches (services/container.py), so it runs outside a
request (in the app context only: the secret key and the limiter's storage), against the real
slapd, and gives the same answer for a name that matches nobody as for a person who may reset.
"""
from __future__ import annotations

import pytest
from flask import Flask, has_request_context

from portal.services.container import collaborators
from portal.services.reset import steps
from portal.services.reset.flows import Binding
from portal.services.reset.identifiers import InvalidIdentifier
from tests.registration_support import sms_gateway  # noqa: F401
from tests.reset_support import Stack, app, audit_events, reset_app, stack  # noqa: F401

pytestmark = pytest.mark.parametrize("stack", ["slapd"], indirect=True)


def identified(app: Flask, name: str) -> tuple[Binding, steps.VerifyPage | steps.Step]:
    """Identify `name`, then read the verify page of the flow it started, outside any request."""
    c = collaborators(app)
    with app.app_context():
        assert not has_request_context()
        started = steps.identify(c, name, previous=None, signed_in=None)
        assert started.offered and started.binding is not None
        return started.binding, steps.verify_page(c, started.binding, None)


def test_identify_runs_without_a_request_and_an_unknown_name_looks_like_a_person(app: Flask, stack: Stack) -> None:
    person = stack.add_person()

    unknown_binding, unknown_page = identified(app, "nobody-by-this-name")
    known_binding, known_page = identified(app, person.login)

    assert unknown_page == known_page  # every kind the portal offers, the first method still to come
    assert isinstance(known_page, steps.VerifyPage) and known_page.first and known_page.choices
    assert unknown_binding != known_binding
    trail = [(e.username, e.outcome, e.reason, e.ip) for e in audit_events(app, steps.EVENT_IDENTIFY)]
    assert trail == [(None, "refused", "unknown_account", None), (person.login, "success", None, None)]


def test_a_name_that_cannot_be_one_is_refused_with_nothing_on_record(app: Flask) -> None:
    with app.app_context():
        with pytest.raises(InvalidIdentifier):
            steps.identify(collaborators(app), "two words", previous=None, signed_in=None)
    assert audit_events(app, steps.EVENT_IDENTIFY) == []
