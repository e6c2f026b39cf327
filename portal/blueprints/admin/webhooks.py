"""/admin/webhooks: the delivery log of signed webhooks, newest first, a page at a time. Read-only."""
from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from ...services.container import collaborators
from ...services.messaging.webhooks import delivery_log
from ...web import fields
from .blueprint import bp


@bp.get("/webhooks")
def webhook_deliveries() -> ResponseReturnValue:
    endpoints = [endpoint.url for endpoint in collaborators().settings.webhooks]
    try:
        before = fields.bounded_int(request.args.get("before"), "before")
    except fields.InvalidField as error:
        return render_template("admin/webhooks.html", error=str(error), deliveries=[], next_id=None,
                               endpoints=endpoints), 400
    found = delivery_log(collaborators(), before)
    return render_template("admin/webhooks.html", error=None, deliveries=found.deliveries, next_id=found.next_id,
                           endpoints=endpoints)
