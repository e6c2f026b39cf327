"""Sign-in through the organization's OpenID Connect provider, checked strictly.

authlib does discovery, the authorization redirect (state, nonce, PKCE S256) and the code
exchange; the ID token is verified here rather than by authlib because authlib takes the
allowed algorithms from the provider's metadata, and we pin them (and the issuer) in settings.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from authlib.integrations.flask_client import OAuth
from flask import Flask, Response, request, session
from flask import redirect as flask_redirect
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from joserfc.jwt import JWTClaimsRegistry

from ... import clock
from ...settings.sections import OidcSettings

log = logging.getLogger(__name__)
CLIENT = "idp"


class SignInError(Exception):
    """Sign-in failed; the reason is for the log, the user sees a generic page."""


@dataclass(frozen=True)
class Identity:
    """Who signed in, from the verified ID token and the claim mapping in settings."""

    issuer: str
    subject: str
    username: str
    email: str | None
    display_name: str | None
    groups: tuple[str, ...]
    auth_time: int


def verify_id_token(raw: str, *, keys: dict[str, Any], issuer: str, client_id: str, nonce: str,
                    algorithms: list[str], leeway: int) -> dict[str, Any]:
    """Signature with a pinned algorithm, then iss, aud (and azp), exp, iat and nonce."""
    try:
        key_set = KeySet.import_key_set(keys)  # type: ignore[arg-type]  # a JWKS document as fetched: checked by joserfc
        token = jwt.decode(raw, key_set, registry=JWSRegistry(algorithms=algorithms))
        claims = token.claims
        JWTClaimsRegistry(
            now=clock.timestamp, leeway=leeway,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
    except (JoseError, ValueError) as error:
        raise SignInError(f"ID token rejected: {type(error).__name__}: {error}") from error
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SignInError("ID token rejected: several audiences and azp is not this client")
    return claims


class OidcSignIn:
    def __init__(self, app: Flask, settings: OidcSettings) -> None:
        self.settings = settings
        oauth = OAuth(app)
        self.client = oauth.register(  # type: ignore[no-untyped-call]  # authlib's registry is untyped
            CLIENT,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            server_metadata_url=self.discovery_url,
            client_kwargs={"scope": " ".join(settings.scopes), "code_challenge_method": "S256",
                           "timeout": settings.timeout_seconds},
        )

    @property
    def discovery_url(self) -> str:
        return self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def metadata(self, *, fresh: bool = False) -> dict[str, Any]:
        """The provider's discovery document, refused if it names another issuer than settings.

        authlib keeps the first copy for the life of the process; `fresh` fetches it again, so a
        provider that went away since is noticed before anyone is sent to it."""
        if fresh:
            self.client.server_metadata.pop("_loaded_at", None)
        try:
            metadata: dict[str, Any] = self.client.load_server_metadata()
        except Exception as error:  # noqa: BLE001 - network, JSON or HTTP status: all "unreachable"
            raise SignInError(f"discovery failed: {type(error).__name__}") from error
        return self.pinned(metadata)

    def pinned(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """The discovery document, refused when it names another issuer than the settings pin."""
        if metadata.get("issuer") != self.settings.issuer:
            raise SignInError("discovery names another issuer than the settings pin")
        return metadata

    def redirect(self, redirect_uri: str, max_age: int | None = None) -> Response:
        """Start the code flow; authlib keeps state, nonce and the PKCE verifier in the session.

        `max_age` asks the provider to re-authenticate anyone who signed in longer ago than that
        (0 = always); the request time is kept with the state, so `complete` can refuse an ID
        token whose auth_time shows the provider ignored the request.
        """
        self.metadata(fresh=True)  # a provider that is down gets the "unavailable" page, not the browser
        if max_age is None:
            redirected: Response = self.client.authorize_redirect(redirect_uri)
            return redirected
        started = self.client.create_authorization_url(redirect_uri, max_age=max_age)
        self.client.save_authorize_data(redirect_uri=redirect_uri, max_age=max_age,
                                        requested_at=clock.timestamp(), **started)
        # in an app, redirect() builds the app's Response class; its annotation names werkzeug's base
        return cast(Response, flask_redirect(started["url"]))

    def complete(self) -> Identity:
        """Finish the code flow for the callback request; each state works once, and only in the
        session it began in, which opens on its own host only (web/sessions.py)."""
        if "error" in request.args:
            raise SignInError(f"provider returned error {request.args.get('error', '')[:64]!r}")
        state = request.args.get("state", "")
        code = request.args.get("code", "")
        integration = self.client.framework
        data = integration.get_state_data(session, state) if state else None
        if state:
            integration.clear_state_data(session, state)
        if not data or not code:
            raise SignInError("unknown, reused or missing state")
        metadata = self.metadata()
        try:
            token = self.client.fetch_access_token(code=code, redirect_uri=data["redirect_uri"],
                                                   code_verifier=data["code_verifier"])
        except Exception as error:  # noqa: BLE001 - any failure of the exchange ends this sign-in
            raise SignInError(f"code exchange failed: {type(error).__name__}") from error
        if "id_token" not in token:
            raise SignInError("token response has no ID token")
        claims = self._verify(token["id_token"], data["nonce"], metadata)
        if "max_age" in data:
            self._check_reauthentication(claims, data["max_age"], data["requested_at"])
        return self._identity(claims)

    def _check_reauthentication(self, claims: dict[str, Any], max_age: int, requested_at: int) -> None:
        auth_time = claims.get("auth_time")
        if not isinstance(auth_time, int):
            raise SignInError("re-authentication was requested but the ID token has no auth_time")
        if auth_time < requested_at - max_age - self.settings.clock_skew_seconds:
            raise SignInError("re-authentication was requested but the provider reused an older sign-in")

    def _verify(self, raw: str, nonce: str, metadata: dict[str, Any]) -> dict[str, Any]:
        def verify(keys: dict[str, Any]) -> dict[str, Any]:
            return verify_id_token(raw, keys=keys, issuer=self.settings.issuer, client_id=self.settings.client_id,
                                   nonce=nonce, algorithms=self.settings.id_token_algorithms,
                                   leeway=self.settings.clock_skew_seconds)
        try:
            return verify(self.client.fetch_jwk_set())
        except SignInError as error:
            if not isinstance(error.__cause__, InvalidKeyIdError):
                raise
        # the provider rotated its keys since we cached them: fetch once more, then decide
        return verify(self.client.fetch_jwk_set(force=True))

    def _identity(self, claims: dict[str, Any]) -> Identity:
        mapping = self.settings.claims
        username = claims.get(mapping.username)
        if not isinstance(username, str) or not username:
            raise SignInError(f"ID token has no {mapping.username!r} claim")
        groups = claims.get(mapping.groups) or []
        return Identity(
            issuer=claims["iss"], subject=claims["sub"], username=username,
            email=_text(claims.get(mapping.email)), display_name=_text(claims.get(mapping.display_name)),
            groups=tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else (),
            auth_time=int(claims.get("auth_time") or claims["iat"]),
        )

    def logout_url(self, post_logout_redirect_uri: str) -> str | None:
        """The provider's end-session URL, when it has one (no ID token is kept to hint with)."""
        try:
            metadata = self.metadata()
        except SignInError:
            return None
        if not metadata.get("end_session_endpoint"):
            return None
        url: str = self.client.create_logout_url(post_logout_redirect_uri=post_logout_redirect_uri,
                                                 client_id=self.settings.client_id)["url"]
        return url


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
