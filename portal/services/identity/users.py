"""Remember who signed in, keyed by issuer and subject (a username can be reused, a subject not)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import clock
from ...store.models import User
from .oidc import Identity


def record_sign_in(db: Session, identity: Identity) -> User:
    user = db.scalar(select(User).where(User.issuer == identity.issuer, User.subject == identity.subject))
    now = clock.utcnow()
    if user is None:
        user = User(issuer=identity.issuer, subject=identity.subject, created_at=now)
        db.add(user)
    user.username = identity.username
    user.email = identity.email
    user.display_name = identity.display_name
    user.last_sign_in_at = now
    db.flush()
    return user
