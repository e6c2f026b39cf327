"""/admin's doctor: the same checks as `flask --app wsgi doctor`, run only when asked (a POST with
CSRF: it connects to every server), with this request's view of scheme, host and client address
compared with base_url and trusted_proxies."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.admin_support import ADMIN, NOT_ADMIN, admin_app, post  # noqa: F401 - fixture
from tests.registration_support import sign_in

ACTION = "/admin/doctor"


def signed_in(app: Flask, username: str = ADMIN) -> Any:
    client = app.test_client()
    sign_in(client, username)
    return client


def doctor_rows(page: str) -> dict[str, tuple[str, str, str]]:
    """check -> (status, found, fix), from the doctor's table."""
    table = page.split('class="data-table doctor-table"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<tr><th scope="row">([^<]*)</th>\s*<td><span class="[^"]*">(\w+)</span></td>\s*'
                       r'<td>([^<]*)</td><td>([^<]*)</td></tr>', table)
    return {check: (status, found, fix) for check, status, found, fix in cells}


@pytest.fixture
def app(admin_app: Callable[..., Flask]) -> Flask:
    return admin_app()


def test_the_overview_offers_the_doctor_and_does_not_run_it_on_a_view(app: Flask) -> None:
    page = signed_in(app).get("/admin").get_data(as_text=True)
    assert f'action="{ACTION}"' in page and "doctor-table" not in page


def test_running_it_shows_one_row_per_check_with_the_fix(app: Flask) -> None:
    client = signed_in(app)
    answer = post(client, ACTION, token_from="/admin")
    assert answer.status_code == 200
    rows = doctor_rows(answer.get_data(as_text=True))
    assert rows["migrations"][0] == "ok" and rows["provider discovery"][0] == "ok"
    assert rows["directory TLS"][0] == "warn" and "ldaps://" in rows["directory TLS"][2]
    assert rows["base_url"] == ("ok", rows["base_url"][1], "")  # the test client asks for base_url's host
    assert "client address 127.0.0.1" in rows["base_url"][1]


def test_a_proxy_that_is_not_trusted_is_named_with_the_setting(app: Flask) -> None:
    client = signed_in(app)
    answer = post(client, ACTION, token_from="/admin", headers={"X-Forwarded-For": "203.0.113.9"})
    status, found, fix = doctor_rows(answer.get_data(as_text=True))["base_url"]
    assert status == "warn" and "trusted_proxies = 0" in found and fix == "set trusted_proxies = 1"


def test_requests_on_another_scheme_than_base_url_fail_and_the_client_address_is_the_proxied_one(admin_app: Callable[..., Flask]) -> None:
    app = admin_app(environ={"PORTAL_TRUSTED_PROXIES": "1"})
    client = signed_in(app)
    answer = post(client, ACTION, token_from="/admin", headers={"X-Forwarded-For": "203.0.113.9"})
    status, found, fix = doctor_rows(answer.get_data(as_text=True))["base_url"]
    assert status == "ok" and "client address 203.0.113.9" in found  # ProxyFix applied
    answer = post(client, ACTION, token_from="/admin", headers={"X-Forwarded-For": "203.0.113.9",
                                                                 "X-Forwarded-Proto": "https"})
    status, found, fix = doctor_rows(answer.get_data(as_text=True))["base_url"]
    assert status == "fail" and "requests arrive as https://" in found and "base_url" in fix


def test_it_needs_csrf_and_an_administrator(app: Flask) -> None:
    assert signed_in(app).post(ACTION).status_code == 400
    outsider = signed_in(app, NOT_ADMIN)
    assert post(outsider, ACTION).status_code == 403
