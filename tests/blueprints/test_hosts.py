"""A second host name in [hosts] runs everything on its own, against the real provider: sign-in at its
own callback, its own session cookie, sign-out back to it, links in its mails from its own base_url,
/enforce and /admin. The second host is `localhost` beside the tests' 127.0.0.1: to a browser (and
to the test client's cookie jar) two hosts, on one server."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from flask import Flask

from devstack import people
from devstack.mailsink import MailSink
from devstack.oidc_provider import sign_in as sign_in_at_provider
from devstack.slapd import Slapd
from portal.store import get_store
from portal.store.campaigns import Campaign
from tests.admin_support import ADMIN, admin_app, location  # noqa: F401 - fixture
from tests.admin_support import post as admin_post
from tests.conftest import PortalClient, SecondHostClient, second_host_client
from tests.registration_support import APP_ORIGIN, mail_body, portal_app, sign_in_long_ago, sms_gateway  # noqa: F401
from tests.reset_support import NEW_PASSWORD, Browser, SlapdStack, Stack, code_sent_to, mails_to, reset_app  # noqa: F401
from tests.support import BASE_URL, SECOND_URL, hosts_toml

SECOND_CALLBACK = f"{SECOND_URL}/auth/callback"


@pytest.fixture
def app(portal_app: Callable[..., Flask]) -> Flask:
    """Registration settings, and the second host in the Contoso theme (the first has the default)."""
    return portal_app(tables=hosts_toml("contoso"))


@pytest.fixture
def second(app: Flask) -> SecondHostClient:
    return second_host_client(app)


@pytest.fixture
def stack(slapd: Slapd) -> Stack:
    """The reset test here needs one directory, not each (reset_support's `stack` runs both)."""
    return SlapdStack(slapd)


def at_provider(to_provider: Any, username: str) -> str:
    """Sign in at the real provider from the portal's redirect; the URL it sends the browser back to."""
    with requests.Session() as browser:
        return sign_in_at_provider(browser, to_provider.headers["Location"], username,
                                   people.person(username).password)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def redirect_uri(to_provider: Any) -> str:
    return parse_qs(urlsplit(to_provider.headers["Location"]).query)["redirect_uri"][0]


def signed_in(client: PortalClient, username: str, host: str | None = None) -> Any:
    """The whole sign-in on `host` (default: the client's own); the callback's answer."""
    host = host or client.host_url
    callback = at_provider(client.get("/signin", base_url=host), username)
    assert callback.startswith(f"{host}/auth/callback?")
    return client.get(path_of(callback), base_url=host)


def test_sign_in_on_the_second_host_comes_back_to_its_own_callback(second: SecondHostClient) -> None:
    to_provider = second.get("/signin")
    assert redirect_uri(to_provider) == SECOND_CALLBACK
    callback = at_provider(to_provider, "alice")

    assert callback.startswith(f"{SECOND_CALLBACK}?")   # the provider allows it, and sends her there
    assert second.get(path_of(callback)).status_code == 302
    page = second.get("/").get_data(as_text=True)
    assert "Signed in as Alice Andersen" in page and "Contoso" in page


def test_each_host_keeps_its_own_host_only_session_cookie(second: SecondHostClient) -> None:
    """One cookie jar, two host names: a sign-in on one is a sign-in there only."""
    answer = signed_in(second, "alice")
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("portal_session=") and "Path=/" in cookie and "Domain" not in cookie
    assert "Signed in as" not in second.get("/", base_url=BASE_URL).get_data(as_text=True)

    signed_in(second, "bob", host=BASE_URL)

    assert "Signed in as Alice Andersen" in second.get("/").get_data(as_text=True)
    assert "Signed in as Bob" in second.get("/", base_url=BASE_URL).get_data(as_text=True)
    assert second.get_cookie("portal_session", domain="localhost") != second.get_cookie("portal_session",
                                                                                     domain="127.0.0.1")


def test_a_session_opens_only_on_the_host_it_began_on(app: Flask, second: SecondHostClient) -> None:
    first = app.test_client()
    signed_in(first, "alice")

    second.use_session_cookie(first.session_cookie or "")   # copied by hand: a browser never sends it there

    assert "Signed in as" not in second.get("/").get_data(as_text=True)
    assert "Signed in as Alice Andersen" in first.get("/").get_data(as_text=True)


def test_a_callback_on_another_host_than_sign_in_began_on_is_refused_cleanly(
        app: Flask, second: SecondHostClient, caplog: pytest.LogCaptureFixture) -> None:
    first = app.test_client()
    callback = path_of(at_provider(first.get("/signin"), "alice"))   # begun on 127.0.0.1

    on_the_other_host = second.get(callback)     # a browser there has no sign-in under way
    assert on_the_other_host.status_code == 400
    assert "Sign-in could not be completed" in on_the_other_host.get_data(as_text=True)
    assert "started at another address" in on_the_other_host.get_data(as_text=True)

    second.use_session_cookie(first.session_cookie or "")   # the first host's cookie, carried over by hand
    with caplog.at_level(logging.WARNING, logger="portal.services.identity.sign_in"):
        assert second.get(callback).status_code == 400      # that session opens on its own host only
    assert "sign-in rejected: unknown, reused or missing state" in caplog.text
    assert "Signed in as" not in second.get("/").get_data(as_text=True)

    assert first.get(callback).status_code == 302           # where it began, it still completes
    assert "Signed in as Alice Andersen" in first.get("/").get_data(as_text=True)


def test_sign_out_on_the_second_host_returns_to_it_and_the_provider_allows_that(second: SecondHostClient) -> None:
    signed_in(second, "alice")
    answer = second.post("/signout", data={"csrf_token": second.csrf_token()})

    assert parse_qs(urlsplit(answer.headers["Location"]).query)["post_logout_redirect_uri"] == [f"{SECOND_URL}/"]
    at_the_provider = requests.get(answer.headers["Location"], timeout=10)
    assert at_the_provider.status_code == 200   # an address it does not know: 400 "... not registered"


def test_a_reset_begun_on_the_second_host_mails_links_to_that_host(
        reset_app: Callable[..., Flask], stack: Stack, mailbox: MailSink) -> None:
    browser = Browser(second_host_client(reset_app(tables=hosts_toml("contoso"))))
    person = stack.add_person()

    browser.identify(person.login)
    browser.choose("email")
    code = code_sent_to(mailbox, person.alternate_email)
    code_mail = mail_body(mails_to(mailbox, person.alternate_email, "verification code"))
    assert f"Contoso password portal: {SECOND_URL}/" in code_mail and BASE_URL not in code_mail
    browser.enter_code(code)
    browser.set_password(NEW_PASSWORD)

    notice = mail_body(mails_to(mailbox, person.alternate_email, "Your password was reset"))
    assert f"{SECOND_URL}/" in notice and BASE_URL not in notice


def test_enforce_on_the_second_host_signs_in_there_and_keeps_the_return_allow_list(second: SecondHostClient) -> None:
    target = f"{APP_ORIGIN}/reports?month=11"
    to_sign_in = second.get(f"/enforce?return_to={quote(target, safe='')}")
    to_provider = second.get(location(to_sign_in))
    assert redirect_uri(to_provider) == SECOND_CALLBACK

    continuing = second.get(path_of(at_provider(to_provider, "alice")))   # compliant: directory methods
    assert location(second.get(location(continuing))) == target

    refused = second.get(f"/enforce?return_to={quote('https://evil.example/reports', safe='')}")
    assert location(refused) == "/"


def test_admin_on_the_second_host_signs_in_again_there_and_works_in_its_theme(
        admin_app: Callable[..., Flask]) -> None:
    app = admin_app(tables=hosts_toml("contoso"))
    second = second_host_client(app)
    signed_in(second, ADMIN)
    overview = second.get("/admin").get_data(as_text=True)   # the effective settings name both hosts
    assert "hosts.localhost.base_url" in overview and SECOND_URL in overview
    assert second.get("/admin/reports").status_code == 200
    sign_in_long_ago(second, minutes=16)    # changes need a recent sign-in

    to_reauth = admin_post(second, "/admin/campaigns/new", {"template": "coming_soon", "audience": "everybody"})
    to_provider = second.get(location(to_reauth))
    assert redirect_uri(to_provider) == SECOND_CALLBACK
    assert location(second.get(path_of(at_provider(to_provider, ADMIN)))) == "/admin/campaigns"
    created = admin_post(second, "/admin/campaigns/new", {"template": "coming_soon", "audience": "everybody"})

    assert created.status_code == 303
    with app.app_context(), get_store().transaction() as db:
        assert [c.theme for c in db.query(Campaign)] == ["contoso"]
