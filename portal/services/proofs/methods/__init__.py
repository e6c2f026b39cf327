"""The ways a person proves who they are, and the one registry every reader goes through.

Each module validates what a person enters for its method and implements the `Method` protocol
(base.py); `REGISTRY` lists them in display order. Registration pages, the reset flow, policy,
reports and notices ask a member what they need (how it registers, how it proves, where its codes
go, whether administrators may use it) instead of comparing method names.

Adding a method of a shape the pages know (codes sent to an address, or an app's codes): its
module here with a member implementing the protocol (base.Member declares the facts), its entry
in `MEMBERS`, its key in settings/registration.py METHODS (settings sit below services and cannot
import this; tests/services/proofs/test_method_registry.py keeps the two equal), and templates/methods/<key>.html
with what the pages say for it. A new shape needs its own registration and reset steps, as the
passkey (passkey.py) has.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import email, passkey, phone, questions, totp
from .base import Channel, DestinationMethod, InvalidEntry, Method, Proves, Registers

__all__ = ["DESTINATIONS", "MEMBERS", "REGISTRY", "Channel", "DestinationMethod", "InvalidEntry", "Method",
           "Proves", "Registers", "keys_that", "label"]

MEMBERS: tuple[Method, ...] = (email.METHOD, phone.METHOD, totp.METHOD, passkey.METHOD, questions.METHOD)  # display order
REGISTRY: Mapping[str, Method] = MappingProxyType({m.key: m for m in MEMBERS})
DESTINATIONS: Mapping[str, DestinationMethod] = MappingProxyType(
    {m.key: m for m in MEMBERS if isinstance(m, DestinationMethod)})


def keys_that(proves: Proves) -> tuple[str, ...]:
    """The keys of the methods that prove a person this way, in display order."""
    return tuple(m.key for m in MEMBERS if m.proves is proves)


def label(key: str) -> str:
    """The method's name as people read it, in the current language."""
    return REGISTRY[key].label
