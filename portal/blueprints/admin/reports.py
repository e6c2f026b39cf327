"""/admin/reports: coverage (with its chart), methods, re-confirmation, activity, failures, pauses.

The long tables come a page at a time (`?reconfirm_page=2`); every CSV streams the whole table."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ...services.container import collaborators
from ...services.reporting.date_range import BadRange, DateRange
from ...services.reporting.reports import NAMES, PAGED, Table, csv_lines, page
from ...services.reporting.svg_chart import line_chart
from .blueprint import bp
from .downloads import csv_download


def _period() -> DateRange:
    return DateRange.parse(request.args.get("from"), request.args.get("to"))


def _group() -> str | None:
    return (request.args.get("group") or "").strip()[:255] or None


def _pages() -> dict[str, int]:
    """`<name>_page` for each paged table; anything but a positive number is the first page."""
    wanted = {name: request.args.get(f"{name}_page", "") for name in PAGED}
    return {name: int(text) for name, text in wanted.items() if text.isdigit() and 0 < len(text) < 10}


def _coverage_points(coverage: Table) -> list[tuple[date, float]]:
    """(day, percent registered): the first and last columns of the coverage table."""
    return [(day, float(share)) for day, *_counts, share in coverage.rows
            if isinstance(day, date) and isinstance(share, (int, float))]


@bp.get("/reports")
def reports() -> ResponseReturnValue:
    try:
        found = page(collaborators(), _period(), _group(), pages=_pages())
    except BadRange as error:
        return render_template("admin/reports.html", error=str(error), tables=None, chart=None,
                               refreshed_at=None), 400
    chart = line_chart(_coverage_points(found.tables["coverage"]),
                       title=_("Registered people, share of everybody in scope"))
    return render_template("admin/reports.html", error=None, tables=found.tables, chart=chart,
                           refreshed_at=found.refreshed_at)


@bp.get("/reports/<name>.csv")
def report_csv(name: str) -> ResponseReturnValue:
    if name not in NAMES:
        abort(404)
    try:
        period = _period()
    except BadRange as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    return csv_download(csv_lines(collaborators(), period, _group(), name), f"{name}-{period.first}-{period.last}.csv")
