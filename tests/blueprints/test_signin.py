"""OIDC sign-in against the real dev provider: the round trip, sign-out, and every way a token can be wrong."""
from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from devstack import people
from devstack.oidc_provider import OidcProvider, obtain_tokens
from devstack.ports import TEST
from portal import clock
from portal.services.identity.oidc import SignInError, verify_id_token
from portal.store import get_store
from portal.store.models import User, WebSession
from tests.conftest import PortalClient, provider_callback

CALLBACK = f"{TEST.portal_url}/auth/callback"
ALICE = people.person("alice")


def test_sign_in_round_trip_lands_on_next_and_shows_the_person(client: PortalClient, app: Flask) -> None:
    callback = provider_callback(client, "alice", next_path="/?from=test")
    response = client.get(callback)
    assert response.status_code == 302
    assert response.headers["Location"] == "/?from=test"
    assert "Signed in as Alice Andersen" in client.get("/").get_data(as_text=True)
    with app.app_context(), get_store().transaction() as db:
        user = db.scalar(select(User).where(User.username == "alice"))
    assert user is not None
    assert user.issuer == TEST.issuer
    assert user.subject and user.subject != "alice"   # keyed by the provider's subject, not the login name
    assert user.email == ALICE.email


def test_sign_in_rotates_the_session(client: PortalClient, app: Flask) -> None:
    callback = provider_callback(client, "alice")
    before = client.session_cookie
    assert before is not None                      # the state and nonce live in a pre-sign-in session
    client.get(callback)
    after = client.session_cookie
    assert after is not None and after != before
    other = app.test_client()
    other.use_session_cookie(before)
    assert "Signed in as" not in other.get("/").get_data(as_text=True)


def test_the_session_holds_no_tokens(client: PortalClient, app: Flask) -> None:
    client.get(provider_callback(client, "alice"))
    with app.app_context(), get_store().transaction() as db:
        stored = json.dumps([row.data for row in db.scalars(select(WebSession))])
    assert "eyJ" not in stored            # no JWT (ID or access token) anywhere in session data
    assert "access_token" not in stored and "id_token" not in stored


def test_groups_from_the_provider_are_kept_for_the_session(client: PortalClient) -> None:
    client.get(provider_callback(client, "erin"))
    with client.session_transaction() as session:
        assert "portal-admins" in session["user"]["groups"]


@pytest.mark.parametrize("next_path", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/%0d%0aSet-Cookie:x"])
def test_next_never_leaves_the_portal(client: PortalClient, next_path: str) -> None:
    response = client.get(provider_callback(client, "alice", next_path=next_path))
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\"))
    assert "evil" not in location or location.startswith("/%")


def test_a_wrong_state_is_refused(client: PortalClient) -> None:
    callback = provider_callback(client, "alice")
    tampered = callback.replace("state=", "state=x")
    response = client.get(tampered)
    assert response.status_code == 400
    assert "Sign-in could not be completed" in response.get_data(as_text=True)
    assert "Signed in as" not in client.get("/").get_data(as_text=True)


def test_a_replayed_callback_is_refused(client: PortalClient) -> None:
    callback = provider_callback(client, "alice")
    assert client.get(callback).status_code == 302
    client.post("/signout", data={"csrf_token": client.csrf_token()})
    assert client.get(callback).status_code == 400


def test_a_callback_from_another_browser_is_refused(client: PortalClient, app: Flask) -> None:
    callback = provider_callback(client, "alice")
    attacker = app.test_client()
    assert attacker.get(callback).status_code == 400


def test_a_wrong_nonce_is_refused(client: PortalClient) -> None:
    callback = provider_callback(client, "alice")
    with client.session_transaction() as session:
        [key] = [k for k in session if k.startswith("_state_")]
        state = dict(session[key])
        state["data"] = {**state["data"], "nonce": "not-the-nonce-we-sent"}
        session[key] = state
    response = client.get(callback)
    assert response.status_code == 400
    assert "Signed in as" not in client.get("/").get_data(as_text=True)


def test_an_error_from_the_provider_is_a_clear_400(client: PortalClient) -> None:
    client.get("/signin")
    response = client.get("/auth/callback?error=access_denied&state=x")
    assert response.status_code == 400
    assert "Sign-in could not be completed" in response.get_data(as_text=True)


def test_sign_in_start_refuses_a_provider_naming_another_issuer(make_app: Callable[..., Flask],
                                                                 oidc_provider: OidcProvider) -> None:
    app = make_app(environ={"PORTAL_OIDC__ISSUER": TEST.issuer + "/"})
    response = app.test_client().get("/signin")
    assert response.status_code == 503
    assert "Sign-in is not available right now" in response.get_data(as_text=True)


# --- the ID token checks, on real tokens from the real provider -------------------------------

def real_token(provider: OidcProvider, client_id: str = "portal", secret: str = "portal-dev-secret",
               nonce: str = "n-1") -> str:
    tokens = obtain_tokens(provider, client_id, secret, CALLBACK, "alice", ALICE.password, nonce)
    return str(tokens["id_token"])


def verify(raw: str, provider: OidcProvider, **overrides: Any) -> dict[str, Any]:
    import requests

    keys = requests.get(str(provider.discovery()["jwks_uri"]), timeout=5).json()
    options: dict[str, Any] = dict(keys=keys, issuer=TEST.issuer, client_id="portal", nonce="n-1",
                                   algorithms=["RS256"], leeway=60)
    return verify_id_token(raw, **{**options, **overrides})


def test_a_genuine_token_passes_every_check(oidc_provider: OidcProvider) -> None:
    claims = verify(real_token(oidc_provider), oidc_provider)
    assert claims["preferred_username"] == "alice"


def test_a_token_for_another_audience_is_refused(oidc_provider: OidcProvider) -> None:
    raw = real_token(oidc_provider, client_id="other-app", secret="other-app-secret")
    with pytest.raises(SignInError, match="aud"):
        verify(raw, oidc_provider)


def test_a_token_from_another_issuer_with_a_valid_signature_is_refused(
        oidc_provider: OidcProvider, foreign_oidc_provider: OidcProvider) -> None:
    raw = real_token(foreign_oidc_provider)
    with pytest.raises(SignInError, match="iss"):
        verify(raw, oidc_provider)


def test_an_expired_token_is_refused(oidc_provider: OidcProvider) -> None:
    raw = real_token(oidc_provider)
    with clock.travel(timedelta(hours=3)), pytest.raises(SignInError, match="Expired"):
        verify(raw, oidc_provider)


def test_a_wrong_nonce_in_the_token_is_refused(oidc_provider: OidcProvider) -> None:
    with pytest.raises(SignInError, match="nonce"):
        verify(real_token(oidc_provider, nonce="n-2"), oidc_provider)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_tampered_signature_is_refused(oidc_provider: OidcProvider) -> None:
    header, payload, signature = real_token(oidc_provider).split(".")
    flipped = bytearray(_unb64(signature))
    flipped[10] ^= 0x01
    with pytest.raises(SignInError):
        verify(f"{header}.{payload}.{_b64(bytes(flipped))}", oidc_provider)


def test_a_tampered_payload_is_refused(oidc_provider: OidcProvider) -> None:
    header, payload, signature = real_token(oidc_provider).split(".")
    claims = json.loads(_unb64(payload))
    claims["preferred_username"] = "erin"
    with pytest.raises(SignInError):
        verify(f"{header}.{_b64(json.dumps(claims).encode())}.{signature}", oidc_provider)


def test_an_unsigned_token_is_refused(oidc_provider: OidcProvider) -> None:
    _header, payload, _signature = real_token(oidc_provider).split(".")
    with pytest.raises(SignInError):
        verify(f"{_b64(json.dumps({'alg': 'none'}).encode())}.{payload}.", oidc_provider)


def test_an_algorithm_outside_the_pinned_list_is_refused(oidc_provider: OidcProvider) -> None:
    with pytest.raises(SignInError):
        verify(real_token(oidc_provider), oidc_provider, algorithms=["ES256"])


# --- sign-out and session lifetimes -------------------------------------------------------------

def test_sign_out_ends_the_session_here_and_at_the_provider(client: PortalClient, sign_in_as: Callable[..., Any],
                                                            app: Flask) -> None:
    sign_in_as("alice")
    cookie = client.session_cookie
    response = client.post("/signout", data={"csrf_token": client.csrf_token()})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{TEST.issuer}/session/end"
    query = parse_qs(location.query)
    assert query["post_logout_redirect_uri"] == [f"{TEST.portal_url}/"]
    assert query["client_id"] == ["portal"]
    replay = app.test_client()
    replay.use_session_cookie(cookie or "")
    assert "Signed in as" not in replay.get("/").get_data(as_text=True)


def test_sign_out_needs_post_and_a_csrf_token(client: PortalClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("alice")
    assert client.get("/signout").status_code == 405
    refused = client.post("/signout")
    assert refused.status_code == 400
    assert "This page has expired" in refused.get_data(as_text=True)
    assert "Signed in as" in client.get("/").get_data(as_text=True)


def test_an_idle_session_expires(client: PortalClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("alice")
    with clock.travel(timedelta(minutes=31)):
        assert "Signed in as" not in client.get("/").get_data(as_text=True)


def test_an_active_session_ends_at_its_absolute_lifetime(client: PortalClient, sign_in_as: Callable[..., Any]) -> None:
    sign_in_as("alice")
    for minutes in range(25, 8 * 60, 25):         # a request every 25 minutes keeps it from idling out...
        with clock.travel(timedelta(minutes=minutes)):
            assert "Signed in as" in client.get("/").get_data(as_text=True)
    with clock.travel(timedelta(minutes=8 * 60 + 1)):  # ...but not past the absolute lifetime
        assert "Signed in as" not in client.get("/").get_data(as_text=True)


def test_session_cookie_flags(client: PortalClient, sign_in_as: Callable[..., Any]) -> None:
    response = sign_in_as("alice")
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("portal_session=")]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie       # http://127.0.0.1 in tests; https deployments: see test_security


def test_a_forged_session_cookie_is_ignored(client: PortalClient) -> None:
    client.use_session_cookie(secrets.token_urlsafe(32))
    assert "Signed in as" not in client.get("/").get_data(as_text=True)
