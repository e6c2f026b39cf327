"""/admin/reports: coverage (with its chart), methods, re-confirmation, activity, failures, pauses."""
from __future__ import annotations

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ...adapters.directory import DirectoryUnavailable, directory_for
from ...services.reporting.csv_export import rows_as_csv
from ...services.reporting.date_range import BadRange, DateRange
from ...services.reporting.reports import NAMES, Reports
from ...services.reporting.svg_chart import line_chart
from ...store.db import db
from ...web.errors import render_error
from .blueprint import bp, settings
from .downloads import csv_download


def _reports() -> Reports:
    period = DateRange.parse(request.args.get("from"), request.args.get("to"))
    group = (request.args.get("group") or "").strip()[:255] or None
    return Reports(db(), directory_for(), settings(), period, group)


def _directory_down() -> ResponseReturnValue:
    return render_error(503, _("The directory is not available right now"),
                        _("Reports count the people in the directory. Please try again in a few minutes."))


@bp.get("/reports")
def reports() -> ResponseReturnValue:
    try:
        found = _reports()
        tables = {name: found.table(name) for name in NAMES}
    except BadRange as error:
        return render_template("admin/reports.html", error=str(error), tables=None, chart=None), 400
    except DirectoryUnavailable:
        return _directory_down()
    points = [(row[0], float(row[3])) for row in tables["coverage"].rows]  # type: ignore[arg-type]
    chart = line_chart(points, title=_("Registered people, share of everybody in scope"))
    return render_template("admin/reports.html", error=None, tables=tables, chart=chart)


@bp.get("/reports/<name>.csv")
def report_csv(name: str) -> ResponseReturnValue:
    if name not in NAMES:
        abort(404)
    try:
        found = _reports()
        table = found.table(name)
    except BadRange as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    except DirectoryUnavailable:
        return Response("the directory is not available right now\n", status=503, mimetype="text/plain")
    return csv_download(rows_as_csv(table.header, table.rows),
                        f"{name}-{found.period.first}-{found.period.last}.csv")
