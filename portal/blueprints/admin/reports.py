"""/admin/reports: coverage (with its chart), methods, re-confirmation, activity, failures, pauses."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ...services.container import collaborators
from ...services.reporting.reports import NAMES, DirectoryUnavailable, Table, tables
from ...services.reporting.csv_export import rows_as_csv
from ...services.reporting.date_range import BadRange, DateRange
from ...services.reporting.svg_chart import line_chart
from ...web.errors import render_error
from .blueprint import bp
from .downloads import csv_download


def _period() -> DateRange:
    return DateRange.parse(request.args.get("from"), request.args.get("to"))


def _group() -> str | None:
    return (request.args.get("group") or "").strip()[:255] or None


def _coverage_points(coverage: Table) -> list[tuple[date, float]]:
    """(day, percent registered): the first and last columns of the coverage table."""
    return [(day, float(share)) for day, *_counts, share in coverage.rows
            if isinstance(day, date) and isinstance(share, (int, float))]


@bp.get("/reports")
def reports() -> ResponseReturnValue:
    try:
        found = tables(collaborators(), _period(), _group())
    except BadRange as error:
        return render_template("admin/reports.html", error=str(error), tables=None, chart=None), 400
    except DirectoryUnavailable:
        return render_error(503, _("The directory is not available right now"),
                            _("Reports count the people in the directory. Please try again in a few minutes."))
    chart = line_chart(_coverage_points(found["coverage"]), title=_("Registered people, share of everybody in scope"))
    return render_template("admin/reports.html", error=None, tables=found, chart=chart)


@bp.get("/reports/<name>.csv")
def report_csv(name: str) -> ResponseReturnValue:
    if name not in NAMES:
        abort(404)
    try:
        period = _period()
        [table] = tables(collaborators(), period, _group(), [name]).values()
    except BadRange as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    except DirectoryUnavailable:
        return Response("the directory is not available right now\n", status=503, mimetype="text/plain")
    return csv_download(rows_as_csv(table.header, table.rows), f"{name}-{period.first}-{period.last}.csv")
