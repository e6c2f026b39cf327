"""Two portal instances behind nginx, as separate processes on one PostgreSQL and one Redis: a reset
moves between them, limits and code budgets are counted once across them, and a killed instance
loses nothing.

The limit tests post one form several times with one CSRF token, so that nginx's round robin sends
the posts to both instances in turn (they check it in nginx's log): with `memory://` storage each
instance would count only its own share, and these tests fail.
"""
from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable

import requests
from playwright.sync_api import sync_playwright

from devstack.mailsink import MailSink
from tests.deploy.conftest import HTTP_PORT, Cluster
from tests.reset_support import NEW_PASSWORD, Browser, SlapdStack, code_sent_to, mails_to
from tests.support import CSRF_FIELD


def posted(browser: Browser, path: str, forms: list[dict[str, str]], form_page: str = "/reset/") -> list[int]:
    """POST each of `forms` to `path` with one CSRF token; the statuses."""
    match = CSRF_FIELD.search(browser.get(form_page).get_data(as_text=True))
    assert match, f"no CSRF token on {form_page}"
    return [browser.client.post(path, data={"csrf_token": match.group(1), **form}).status_code for form in forms]


def gone(port: int, timeout: float = 10.0) -> None:
    """Wait until nothing accepts on `port`: a killed master is reaped before its workers, which
    hold the listening socket too, are all gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.02)
    raise AssertionError(f"something still accepts on port {port}")


def test_http_is_sent_to_https_and_the_log_keeps_no_query_strings(cluster: Cluster,
                                                                 new_visitor: Callable[[], Browser]) -> None:
    plain = requests.get(f"http://127.0.0.1:{HTTP_PORT}/reset/?next=x", allow_redirects=False, timeout=5)
    assert plain.status_code == 301 and plain.headers["Location"] == "https://127.0.0.1/reset/?next=x"

    browser = new_visitor()
    assert browser.get("/auth/callback?code=secret-code-123&state=secret-state").status_code == 400
    assert [line.status for line in cluster.served(browser, "GET", "/auth/callback")] == [400]
    assert "secret-code-123" not in cluster.nginx.access_log.read_text()


def test_a_reset_started_on_one_instance_finishes_on_the_other(cluster: Cluster, stack: SlapdStack,
                                                               mailbox: MailSink,
                                                               new_visitor: Callable[[], Browser]) -> None:
    browser, person = new_visitor(), stack.add_person()
    assert browser.identify(person.login).status_code == 303
    browser.get("/reset/verify")  # one request more: the next form's GET and POST swap instances
    assert browser.choose("email").status_code == 303
    assert browser.enter_code(code_sent_to(mailbox, person.alternate_email)).status_code == 303
    assert browser.set_password(NEW_PASSWORD).status_code == 200

    started, = cluster.serving(browser, "POST", "/reset/")
    finished, = cluster.serving(browser, "POST", "/reset/password")
    assert started is not finished
    assert stack.binds(person, NEW_PASSWORD)


def test_limits_per_ip_are_counted_once_across_instances(cluster: Cluster,
                                                         new_visitor: Callable[[], Browser]) -> None:
    """Replaces the in-interpreter test: five identifications an hour per IP (tests/deploy/conftest.py)."""
    browser = new_visitor()
    statuses = posted(browser, "/reset/", [{"identifier": f"nobody-{n}"} for n in range(6)])
    assert statuses == [303] * 5 + [429]
    assert set(cluster.serving(browser, "POST", "/reset/", 6)) == set(cluster.instances)


def test_limits_per_account_are_counted_once_across_instances(cluster: Cluster, stack: SlapdStack,
                                                              new_visitor: Callable[[], Browser]) -> None:
    """Replaces the in-interpreter test: two identifications of one account an hour."""
    person = stack.add_person()
    first, second = new_visitor(), new_visitor()
    assert posted(first, "/reset/", [{"identifier": person.login}] * 2) == [303, 303]
    assert posted(second, "/reset/", [{"identifier": f"{person.login}@example.test"}]) == [429]
    assert set(cluster.serving(first, "POST", "/reset/", 2)) == set(cluster.instances)


def test_code_budgets_are_counted_once_across_instances(cluster: Cluster, stack: SlapdStack, mailbox: MailSink,
                                                        new_visitor: Callable[[], Browser]) -> None:
    """Two codes an hour per account: the third request is refused, whichever instance takes it."""
    browser, person = new_visitor(), stack.add_person()
    assert browser.identify(person.login).status_code == 303
    assert posted(browser, "/reset/verify", [{"method": "email"}] * 3, form_page="/reset/verify") == [303, 303, 429]
    assert set(cluster.serving(browser, "POST", "/reset/verify", 3)) == set(cluster.instances)

    mails_to(mailbox, person.alternate_email, "verification code")
    assert cluster.outbox_drained()
    assert len([m for m in mailbox.messages() if m["To"] == person.alternate_email]) == 2


def test_an_instance_killed_mid_flow_loses_nothing(cluster: Cluster, stack: SlapdStack, mailbox: MailSink,
                                                   new_visitor: Callable[[], Browser]) -> None:
    browser, person = new_visitor(), stack.add_person()
    browser.identify(person.login)
    assert browser.choose("email").status_code == 303
    code = code_sent_to(mailbox, person.alternate_email)
    killed, = cluster.serving(browser, "POST", "/reset/verify")
    assert killed.process is not None
    os.killpg(killed.process.pid, signal.SIGKILL)
    gone(cluster.port_of(killed))
    killed.process.wait()
    try:
        assert browser.enter_code(code).status_code == 303
        assert browser.set_password(NEW_PASSWORD).status_code == 200
        after = cluster.served(browser, "GET", "/reset/", 3)[-2:] + cluster.served(browser, "POST", "/reset/code")
        assert all(cluster.instance_on(line.upstream) is not killed and line.status < 500 for line in after)
        assert stack.binds(person, NEW_PASSWORD)
    finally:
        killed.start()


def test_a_browser_posts_forms_over_https(cluster: Cluster, stack: SlapdStack) -> None:
    """Chromium through nginx: over https the CSRF check wants a same-origin Referer, which the
    portal's Referrer-Policy must let the browser send (no-referrer made every form "expired")."""
    person = stack.add_person()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = chromium.new_context(ignore_https_errors=True).new_page()
            page.goto(cluster.nginx.url + "/reset/")
            page.fill("input[name=identifier]", person.login)
            with page.expect_navigation():
                page.press("input[name=identifier]", "Enter")
            assert page.url == cluster.nginx.url + "/reset/verify"
        finally:
            chromium.close()
