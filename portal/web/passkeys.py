"""Who a passkey is for: the relying party of the host this request came to.

A passkey is bound to a host name. With [hosts], every host has its own base_url and so its own
relying-party id: a passkey made on one host works on that host only (browsers would refuse to
use it on another, and the origin check here refuses it too). The request's Host header only
chooses among the configured hosts; the id and the origin come from that host's base_url.
"""
from __future__ import annotations

from flask import request

from ..branding import current_theme
from ..services.container import collaborators
from ..services.proofs.methods.passkey import RelyingParty


def relying_party() -> RelyingParty:
    settings = collaborators().settings
    served = settings.host(request.host)
    return RelyingParty.of(served.base_url if served is not None else settings.base_url,
                           current_theme().file.organization)
