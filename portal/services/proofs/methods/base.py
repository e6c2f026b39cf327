"""What a verification method is: the protocol every member of the registry implements.

A method says how it is registered (an address confirmed by a code sent there, a secret confirmed
by a code it generates, answers to questions), how it proves a person later (a code sent, the
code an app shows now, answers), where its codes go, how its value is shown masked, and the two
policy facts that differ between methods: whether it resists phishing and whether administrators
may use it. Pages, the reset flow, reports and policy read these instead of comparing names.

Members take plain values only (no security info, no request), so this module and theirs sit
below everything that reads them.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ....adapters.directory.model import DirectoryUser
from ....settings import Settings
from ....settings.registration import PhoneSettings


class InvalidEntry(ValueError):
    """What the person entered cannot be used; the message (translated) says why, for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Registers(enum.Enum):
    """How a person registers the method."""

    DESTINATION = "destination"  # an address, saved once the code sent there is typed back
    SECRET = "secret"            # a shared secret, saved once a code it generates is typed back
    ANSWERS = "answers"          # answers to questions chosen from the catalogue
    CREDENTIAL = "credential"    # a key pair the person's device creates (a passkey), public half saved


class Proves(enum.Enum):
    """How the method proves a person later."""

    SENT_CODE = "sent_code"        # a one-time code sent to the registered destination
    CURRENT_CODE = "current_code"  # the code the enrolled app shows now
    ANSWERS = "answers"            # answers to some of the registered questions
    ASSERTION = "assertion"        # the device signs a challenge for this site (WebAuthn)


class Channel(enum.Enum):
    """Where a destination's codes go: the outbox channel that carries them."""

    MAIL = "email"
    SMS = "sms"


class Method(Protocol):
    """One way to prove who you are. `key` is what settings, URLs, stored rows and audit details use."""

    @property
    def key(self) -> str: ...

    @property
    def registers(self) -> Registers: ...

    @property
    def proves(self) -> Proves: ...

    @property
    def channel(self) -> Channel | None:
        """Where its codes go; None when nothing is sent."""

    @property
    def phishing_resistant(self) -> bool:
        """Bound to the real site (as a passkey is), so a look-alike page cannot relay it."""

    @property
    def allowed_for_admins(self) -> bool: ...

    @property
    def label(self) -> str:
        """Its name as a heading, in the current language ("Alternate email")."""

    @property
    def named(self) -> str:
        """Its name inside a sentence ("your alternate email was saved")."""

    def available(self, settings: Settings) -> bool:
        """Whether the portal can use it now (a mail server for codes by mail, say)."""

    def masked(self, value: str) -> str:
        """The registered value as its owner sees it once proven; "" when it has none to show."""


@dataclass(frozen=True, kw_only=True)
class Member:
    """A registry member as one value: the facts a method declares, with what most methods share
    (usable when its channel is configured, nothing to show masked). Destination methods subclass
    it with their checks; the others need nothing more."""

    key: str
    registers: Registers
    proves: Proves
    channel: Channel | None
    allowed_for_admins: bool
    title: object      # lazy_gettext: the label, translated when read
    in_sentence: object
    phishing_resistant: bool = False

    @property
    def label(self) -> str:
        return str(self.title)

    @property
    def named(self) -> str:
        return str(self.in_sentence)

    def available(self, settings: Settings) -> bool:
        if self.channel is Channel.MAIL:
            return settings.mail.configured
        if self.channel is Channel.SMS:
            return settings.sms.provider != "none"
        return True

    def masked(self, value: str) -> str:
        return ""


@runtime_checkable
class DestinationMethod(Method, Protocol):
    """A method whose codes are sent to an address the person registers (or the directory holds)."""

    def normalize(self, text: str, phone: PhoneSettings) -> str:
        """The stored form of what was typed; InvalidEntry says what is wrong. `phone`: the
        settings numbers are checked against (the only destination settings there are)."""

    def directory_value(self, user: DirectoryUser) -> str | None:
        """The value the directory holds for this method, as read (checked by `normalize`)."""
