"""/admin/audit: the audit log with filters, and the same selection as CSV. Read-only."""
from __future__ import annotations

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from ...services.container import collaborators
from ...services.reporting.audit_log import AuditFilter, export_csv, known_events, page_of
from ...services.reporting.date_range import BadRange, DateRange
from ...services.security import audit
from ...web import fields
from .blueprint import bp
from .downloads import csv_download

FILTERS = ("user", "event", "outcome", "from", "to")


def _kept_filters() -> dict[str, str]:
    """The filters the page's links carry on, and nothing else from the query string (a key such
    as `_external` would otherwise reach url_for)."""
    return {key: request.args[key] for key in FILTERS if request.args.get(key)}


def _filter() -> AuditFilter:
    args = request.args
    outcome = args.get("outcome") or None
    if outcome is not None and outcome not in audit.OUTCOMES:
        raise BadRange(f"'outcome' must be one of {', '.join(audit.OUTCOMES)}")
    return AuditFilter(period=DateRange.parse(args.get("from"), args.get("to")),
                       username=(args.get("user") or "").strip()[:255] or None,
                       event=(args.get("event") or "").strip()[:64] or None, outcome=outcome)


@bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    try:
        where = _filter()
        before = fields.bounded_int(request.args.get("before"), "before")
    except (BadRange, fields.InvalidField) as error:
        return render_template("admin/audit.html", error=str(error), events=[], next_id=None,
                               events_known=known_events(collaborators()), outcomes=audit.OUTCOMES,
                               audit_query=_kept_filters()), 400
    found = page_of(collaborators(), where, before)
    return render_template("admin/audit.html", error=None, events=found.events, next_id=found.next_id, where=where,
                           events_known=found.events_known, outcomes=audit.OUTCOMES, audit_query=_kept_filters())


@bp.get("/audit.csv")
def audit_csv() -> ResponseReturnValue:
    try:
        where = _filter()
    except BadRange as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    return csv_download(export_csv(collaborators(), where), f"audit-{where.period.first}-{where.period.last}.csv")
