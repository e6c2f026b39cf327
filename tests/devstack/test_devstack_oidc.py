"""The dev stack's OpenID Connect provider and mail sink behave like the real servers they stand for.

The portal's sign-in tests rely on these promises: the demo people sign in with their directory
password (and only with it), the ID token carries the claims the portal maps, the issuer is the
pinned one, and a second provider can sign with the same key under another issuer. Reading Active
Directory (`make demo DIRECTORY=ad`), it signs people in by sAMAccountName over LDAPS, names them
by objectGUID and lists their groups with AD's nesting resolved.
"""
from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage
from urllib.parse import parse_qs, urlencode, urlsplit

import ldap3
import pytest
import requests

from devstack import people
from devstack.mailsink import MailSink
from devstack.oidc_provider import (OTHER_CLIENT, PORTAL_CLIENT, SERVICE_DN, OidcProvider,
                                    SignInRejected, obtain_tokens, pkce_pair, sign_in)
from devstack.ports import TEST
from devstack.samba import LOCKOUT_THRESHOLD, SambaDC
from devstack.slapd import Slapd
from tests.support import verified_claims

CALLBACK = f"{TEST.portal_url}/auth/callback"


def authorize_url(provider: OidcProvider, state: str = "state-1") -> str:
    _, challenge = pkce_pair()
    query = urlencode({
        "client_id": PORTAL_CLIENT.client_id, "response_type": "code", "redirect_uri": CALLBACK,
        "scope": "openid email profile groups", "state": state, "nonce": "nonce-1",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    return f"{provider.discovery()['authorization_endpoint']}?{query}"


def entry_uuid(username: str) -> str:
    server = ldap3.Server(TEST.ldap_url)
    with ldap3.Connection(server, SERVICE_DN, people.SERVICE.password, auto_bind=True) as conn:
        conn.search(people.PEOPLE_OU, f"(uid={username})", attributes=["entryUUID"])
        return str(conn.entries[0].entryUUID)


def test_a_person_signs_in_with_their_directory_password(oidc_provider: OidcProvider) -> None:
    alice = people.person("alice")
    with requests.Session() as browser:
        callback = sign_in(browser, authorize_url(oidc_provider), alice.username, alice.password)

    assert callback.startswith(CALLBACK + "?")
    params = parse_qs(urlsplit(callback).query)
    assert params["state"] == ["state-1"]
    assert params["code"][0]
    assert params["iss"] == [oidc_provider.issuer]


def assert_refused(provider: OidcProvider, login: str, password: str) -> None:
    """The provider answers the form again, with the one message, and no code."""
    with requests.Session() as browser, pytest.raises(SignInRejected) as rejected:
        sign_in(browser, authorize_url(provider), login, password)

    page = rejected.value.response
    assert page.status_code == 401
    assert "The username or password is incorrect." in page.text
    assert '<label for="password">Password</label>' in page.text
    assert "code=" not in page.text and "Location" not in page.headers


@pytest.mark.parametrize("login, password", [
    ("alice", "not-her-password"),
    ("alice", ""),                      # an empty password must not become an anonymous bind
    ("nobody", "Alice.Demo.2026!"),
    ("*", "Alice.Demo.2026!"),          # filter syntax in the login is escaped, not interpreted
    ("alice)(uid=*", "Alice.Demo.2026!"),
])
def test_wrong_credentials_get_the_form_again_and_no_code(oidc_provider: OidcProvider,
                                                          login: str, password: str) -> None:
    assert_refused(oidc_provider, login, password)


def test_after_a_reset_in_the_directory_only_the_new_password_works(
        oidc_provider: OidcProvider, slapd: Slapd) -> None:
    dn = slapd.add_person("oidc-reset", "Old.Password.2026!")
    slapd.modify(dn, replace={"userPassword": "New.Password.2026!"})

    with requests.Session() as browser, pytest.raises(SignInRejected):
        sign_in(browser, authorize_url(oidc_provider), "oidc-reset", "Old.Password.2026!")
    with requests.Session() as browser:
        assert "code=" in sign_in(browser, authorize_url(oidc_provider), "oidc-reset", "New.Password.2026!")


def test_a_locked_account_cannot_sign_in(oidc_provider: OidcProvider, slapd: Slapd) -> None:
    slapd.lock(slapd.add_person("oidc-locked", "Locked.Person.2026!"))

    with requests.Session() as browser, pytest.raises(SignInRejected) as rejected:
        sign_in(browser, authorize_url(oidc_provider), "oidc-locked", "Locked.Person.2026!")
    assert rejected.value.response.status_code == 401


def test_the_id_token_carries_the_directory_claims(oidc_provider: OidcProvider) -> None:
    alice = people.person("alice")
    tokens = obtain_tokens(oidc_provider, PORTAL_CLIENT.client_id, PORTAL_CLIENT.client_secret,
                           CALLBACK, alice.username, alice.password, nonce="nonce-42")

    claims = verified_claims(oidc_provider, str(tokens["id_token"]))
    assert claims["iss"] == oidc_provider.issuer
    assert claims["aud"] == "portal"
    assert claims["nonce"] == "nonce-42"
    assert claims["sub"] == entry_uuid("alice")
    assert claims["preferred_username"] == "alice"
    assert claims["name"] == "Alice Andersen"
    assert claims["email"] == "alice@example.test"
    assert sorted(claims["groups"]) == sorted(alice.groups)


def test_a_person_outside_the_pilot_gets_only_their_own_groups(oidc_provider: OidcProvider) -> None:
    dave = people.person("dave")
    tokens = obtain_tokens(oidc_provider, OTHER_CLIENT.client_id, OTHER_CLIENT.client_secret,
                           CALLBACK, dave.username, dave.password, nonce="n")

    claims = verified_claims(oidc_provider, str(tokens["id_token"]))
    assert claims["aud"] == "other-app"
    assert claims["groups"] == [people.STAFF_GROUP]


def test_discovery_pins_the_issuer_and_the_portal_s_requirements(oidc_provider: OidcProvider) -> None:
    metadata = oidc_provider.discovery()

    assert metadata["issuer"] == TEST.issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["id_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["end_session_endpoint"] == f"{TEST.issuer}/session/end"
    assert {"openid", "email", "profile", "groups"} <= set(metadata["scopes_supported"])


def test_an_authorization_request_without_pkce_is_refused(oidc_provider: OidcProvider) -> None:
    query = urlencode({"client_id": "portal", "response_type": "code", "redirect_uri": CALLBACK,
                       "scope": "openid", "state": "s"})
    response = requests.get(f"{oidc_provider.issuer}/auth?{query}", allow_redirects=False, timeout=5)

    assert "error=invalid_request" in response.headers["Location"]
    assert "PKCE" in parse_qs(urlsplit(response.headers["Location"]).query)["error_description"][0]


def test_two_providers_sharing_keys_sign_with_the_same_key(oidc_provider: OidcProvider,
                                                          foreign_oidc_provider: OidcProvider) -> None:
    bob = people.person("bob")
    foreign = obtain_tokens(foreign_oidc_provider, PORTAL_CLIENT.client_id, PORTAL_CLIENT.client_secret,
                            CALLBACK, bob.username, bob.password, nonce="n")

    def kids(provider: OidcProvider) -> list[str]:
        return [key["kid"] for key in requests.get(f"{provider.issuer}/jwks", timeout=5).json()["keys"]]

    assert kids(oidc_provider) == kids(foreign_oidc_provider)
    # Valid signature under the portal's provider keys, but another issuer: only `iss` tells them apart.
    claims = verified_claims(oidc_provider, str(foreign["id_token"]))
    assert claims["iss"] == foreign_oidc_provider.issuer != oidc_provider.issuer


def test_the_mail_sink_keeps_every_message_sent_over_smtp(mailbox: MailSink) -> None:
    message = EmailMessage()
    message["From"] = "portal@example.test"
    message["To"] = "alice@example.test"
    message["Subject"] = "Your reset code"
    message.set_content("Code: 123456\n")
    with smtplib.SMTP("127.0.0.1", TEST.smtp, timeout=5) as smtp:
        smtp.send_message(message)

    received = mailbox.wait_for(lambda m: m["Subject"] == "Your reset code", timeout=5)
    assert received["To"] == "alice@example.test"
    assert received.get_content() == "Code: 123456\n"
    assert [m["Subject"] for m in mailbox.messages()] == ["Your reset code"]


# -- the same provider reading Active Directory (make demo DIRECTORY=ad) ---------------------------

def object_guid(dc: SambaDC, dn: str) -> str:
    """The entry's objectGUID as the portal writes a directory id (uuid.UUID(bytes_le=...))."""
    with dc.connect() as conn:
        conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["objectGUID"])
        return str(uuid.UUID(bytes_le=conn.entries[0].objectGUID.raw_values[0]))


def test_on_active_directory_the_token_names_the_object_guid_and_every_nested_group(
        ad_oidc_provider: OidcProvider, samba: SambaDC) -> None:
    erin = people.person("erin")  # in portal-admins only through it-admins (devstack/samba.py)
    tokens = obtain_tokens(ad_oidc_provider, PORTAL_CLIENT.client_id, PORTAL_CLIENT.client_secret,
                           CALLBACK, erin.username, erin.password, nonce="n")

    claims = verified_claims(ad_oidc_provider, str(tokens["id_token"]))
    assert claims["sub"] == object_guid(samba, samba.person_dn("erin"))  # found again by it, as binary
    assert claims["groups"] == ["it-admins", "portal-admins", "sspr-pilot", "staff"]
    assert (claims["preferred_username"], claims["name"], claims["email"]) == (
        "erin", "Erin Admin", "erin@example.test")


@pytest.mark.parametrize("login, password", [
    ("{login}", "Not.The.Password.1"),
    ("{login}", ""),
    ("*", "{password}"),
    ("{login})(sAMAccountName=*", "{password}"),
    ("{login}@example.test", "{password}"),    # the provider's login is the sAMAccountName only
])
def test_on_active_directory_wrong_credentials_get_the_form_again(
        ad_oidc_provider: OidcProvider, samba: SambaDC, login: str, password: str) -> None:
    person, secret = f"oidc{uuid.uuid4().hex[:8]}", "Oidc.Person.2026!"
    samba.add_person(person, secret)  # its own account: wrong passwords count toward AD's lockout
    assert_refused(ad_oidc_provider, login.format(login=person), password.format(password=secret))


def test_on_active_directory_wrong_passwords_lock_the_account_for_the_provider_too(
        ad_oidc_provider: OidcProvider, samba: SambaDC) -> None:
    person, secret = f"oidc{uuid.uuid4().hex[:8]}", "Oidc.Person.2026!"
    samba.add_person(person, secret)
    with requests.Session() as browser:
        assert "code=" in sign_in(browser, authorize_url(ad_oidc_provider), person, secret)
    for _ in range(LOCKOUT_THRESHOLD):
        assert_refused(ad_oidc_provider, person, "Not.The.Password.1")
    assert_refused(ad_oidc_provider, person, secret)
