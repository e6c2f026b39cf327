"""The signed-in person as the session knows them, and the guard for pages that need one."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from flask import current_app, redirect, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from ..services.identity.oidc import Identity
from .sessions import current_session

P = ParamSpec("P")
R = TypeVar("R")
SESSION_KEY = "user"
SIGN_IN_ENDPOINT = "auth.signin"
NEXT_KEY = "signin_next"  # where the callback continues after a sign-in this browser started


@dataclass(frozen=True)
class SignedInUser:
    user_id: int
    username: str
    display_name: str | None
    email: str | None
    groups: tuple[str, ...]
    auth_time: int

    @property
    def name(self) -> str:
        return self.display_name or self.username


def remember(user_id: int, identity: Identity) -> None:
    """Rotate the session (no fixation) and keep only what pages need; never the tokens.

    Whose directory entry the session belongs to is forgotten with the rest: the caller links the
    new session to the entry once the directory has said which one it is (web/account.py)."""
    session = current_session()
    session.clear()
    session.rotate()
    session.belongs_to(None)
    session[SESSION_KEY] = {
        "user_id": user_id, "username": identity.username, "display_name": identity.display_name,
        "email": identity.email, "groups": list(identity.groups), "auth_time": identity.auth_time,
    }


def sign_in_offered() -> bool:
    """Whether this portal has sign-in: only where a built-in action or /admin uses it (blueprints/external.py)."""
    return SIGN_IN_ENDPOINT in current_app.view_functions


def current_user() -> SignedInUser | None:
    """The signed-in person; nobody where the portal offers no sign-in (link mode), so a session
    signed in before the switch opens nothing and no page links to a sign-out that is not there."""
    if not sign_in_offered():
        return None
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    return SignedInUser(data["user_id"], data["username"], data.get("display_name"), data.get("email"),
                        tuple(data.get("groups") or ()), int(data["auth_time"]))


def sign_in_required(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
        if current_user() is None:
            return redirect(url_for(SIGN_IN_ENDPOINT, next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper
