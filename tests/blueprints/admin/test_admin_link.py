"""The page header's "Administration" link: shown to members of `[admin] groups`, to nobody else."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from tests.admin_support import ADMIN, NOT_ADMIN, admin_app  # noqa: F401 - fixture
from tests.conftest import PortalClient
from tests.registration_support import sign_in

LINK = '<a class="admin-link" href="/admin">Administration</a>'
PAGES = ["/", "/register", "/change/", "/no-such-page"]


@pytest.fixture
def app(admin_app: Callable[..., Flask]) -> Flask:
    return admin_app()


@pytest.mark.parametrize("path", PAGES)
def test_an_administrator_sees_the_link_on_every_page(client: PortalClient, sign_in_as: Callable[..., Any],
                                                      path: str) -> None:
    sign_in_as(ADMIN)

    assert LINK in client.get(path).get_data(as_text=True)


def test_the_link_leads_to_the_administration_pages(client: PortalClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as(ADMIN)

    page = client.get("/admin")
    assert page.status_code == 200 and LINK in page.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_other_people_do_not_see_it(client: PortalClient, sign_in_as: Callable[..., Any], path: str) -> None:
    sign_in_as(NOT_ADMIN)

    assert "Administration" not in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/reset/", "/no-such-page"])
def test_signed_out_visitors_do_not_see_it(client: PortalClient, path: str) -> None:
    assert "Administration" not in client.get(path).get_data(as_text=True)


def test_only_the_configured_groups_count(make_app: Callable[..., Flask], oidc_provider: Any) -> None:
    """Erin is in portal-admins; with other groups configured she is no administrator here."""
    client = make_app('[admin]\ngroups = ["it-security"]').test_client()
    sign_in(client, ADMIN)

    assert "Administration" not in client.get("/").get_data(as_text=True)
    assert client.get("/admin").status_code == 403
