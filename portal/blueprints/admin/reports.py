"""/admin/reports: the dashboard (tiles, curves, top failure reasons), one page per detailed table
(`/admin/reports/reconfirm?page=2`), and every table whole as CSV."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from ...services.container import collaborators
from ...services.reporting.dashboard import Dashboard, dashboard
from ...services.reporting.date_range import BadRange, DateRange
from ...services.reporting.reports import NAMES, coverage_rows, csv_lines, page
from ...services.reporting.svg_chart import count_chart, line_chart
from .blueprint import bp
from .downloads import csv_download

MAX_PAGE_DIGITS = 9
FILTERS = ("from", "to", "group")


@bp.context_processor
def _report_query() -> dict[str, object]:
    """The filters the reports' links carry on, and nothing else from the query string (a key such
    as `name` or `_external` would otherwise reach url_for)."""
    return {"report_query": {key: request.args[key] for key in FILTERS if request.args.get(key)}}


def _period() -> DateRange:
    return DateRange.parse(request.args.get("from"), request.args.get("to"))


def _group() -> str | None:
    return (request.args.get("group") or "").strip()[:255] or None


def _page() -> int:
    """`?page=`; anything but a positive number is the first page (a page past the end, the last)."""
    text = request.args.get("page", "")
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) <= MAX_PAGE_DIGITS else 1


def _charts(found: Dashboard) -> dict[str, Markup]:
    titles = {"registrations": _("People who completed registration, per day"),
              "resets": _("Successful password resets, per day"),
              "changes": _("Successful password changes, per day")}
    return {name: count_chart(points, title=titles[name]) for name, points in found.series.items()}


def _coverage_chart(period: DateRange) -> Markup:
    """The share registered per day over the whole period (the table beside it shows one page)."""
    points = [(day, float(share)) for day, *_counts, share in coverage_rows(collaborators(), period, _group())
              if isinstance(day, date) and isinstance(share, (int, float))]
    return line_chart(points, title=_("Registered people, share of everybody in scope"))


@bp.get("/reports")
def reports() -> ResponseReturnValue:
    try:
        period = _period()
    except BadRange as error:
        return render_template("admin/reports.html", error=str(error), board=None, charts=None), 400
    found = dashboard(collaborators(), period, _group())
    return render_template("admin/reports.html", error=None, board=found, charts=_charts(found), period=period,
                           names=NAMES)


@bp.get("/reports/<name>")
def report_table(name: str) -> ResponseReturnValue:
    """One detailed table, a page at a time, with its CSV (the coverage table with its curve)."""
    if name not in NAMES:
        abort(404)
    try:
        period = _period()
    except BadRange as error:
        return render_template("admin/report_table.html", name=name, error=str(error), table=None,
                               chart=None, refreshed_at=None), 400
    found = page(collaborators(), period, _group(), names=[name], pages={name: _page()})
    table = found.tables[name]
    chart = _coverage_chart(period) if name == "coverage" else None
    return render_template("admin/report_table.html", name=name, error=None, table=table, chart=chart,
                           refreshed_at=found.refreshed_at, period=period)


@bp.get("/reports/<name>.csv")
def report_csv(name: str) -> ResponseReturnValue:
    if name not in NAMES:
        abort(404)
    try:
        period = _period()
    except BadRange as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    return csv_download(csv_lines(collaborators(), period, _group(), name), f"{name}-{period.first}-{period.last}.csv")
