"""The ways a person proves who they are: alternate email, mobile phone, authenticator app, questions.

Each module validates what a person enters for its method and knows how to check it later; the
registration page and the reset flow both use them, so both apply the same rules.
"""
from __future__ import annotations


class InvalidEntry(ValueError):
    """What the person entered cannot be used; the message (translated) says why, for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def label(kind: str) -> str:
    """The method's name as people read it, in the current language."""
    from flask_babel import gettext as _

    return {"email": _("Alternate email"), "phone": _("Mobile phone"), "totp": _("Authenticator app"),
            "questions": _("Security questions")}[kind]
