"""Charts drawn on the server as SVG: no chart library, no script, nothing fetched by the browser.

The portal's CSP allows no inline script and no third-party origin, and admins read reports on
locked-down machines, so the picture is plain markup with presentation attributes (classes for
colours, styled by admin.css). Every label is escaped; a native <title> on each point gives the
exact value on hover, and the page always shows the same numbers as a table for screen readers.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 480, 240  # with labels of 18 units (admin.css): legible when a phone shrinks it to 350 px
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 14, 34
GRID_STEPS = 4
MAX_X_LABELS = 3


def line_chart(points: Sequence[tuple[date, float]], *, title: str, y_max: float = 100.0,
               unit: str = "%") -> Markup:
    """One series over dates (x spaced by days, so gaps in the data show as gaps in time). The
    title is the accessible name (aria-label) and the native tooltip (<title>)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>']
    for step in range(GRID_STEPS + 1):
        value = y_max * step / GRID_STEPS
        y = TOP + plot_h - plot_h * step / GRID_STEPS
        parts.append(f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-label" x="{LEFT - 6}" y="{y + 6:.1f}" text-anchor="end">'
                     f'{_number(value)}{escape(unit)}</text>')
    if points:
        first, last = points[0][0], points[-1][0]
        span = max((last - first).days, 1)

        def x_of(day: date) -> float:
            offset = (day - first).days / span if len(points) > 1 else 0.5
            return LEFT + plot_w * offset

        def y_of(value: float) -> float:
            return TOP + plot_h - plot_h * min(max(value, 0.0), y_max) / y_max

        coordinates = [(x_of(day), y_of(value), day, value) for day, value in points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in coordinates)
        parts.append(f'<polyline class="chart-line" fill="none" points="{path}"/>')
        for x, y, day, value in coordinates:
            parts.append(f'<circle class="chart-point" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                         f'<title>{day.isoformat()}: {_number(value)}{escape(unit)}</title></circle>')
        for index in _label_indexes(len(points)):
            x, _, day, _ = coordinates[index]
            anchor = "start" if index == 0 and len(points) > 1 else "end" if index == len(points) - 1 else "middle"
            parts.append(f'<text class="chart-label" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                         f'{day.isoformat()}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def count_chart(points: Sequence[tuple[date, int]], *, title: str) -> Markup:
    """A count per day, on a scale from 0 to a round number at or above the highest count."""
    return line_chart(points, title=title, y_max=float(round_up(max((n for _day, n in points), default=0))), unit="")


def round_up(highest: float) -> int:
    """The smallest scale of GRID_STEPS whole steps of 1, 2 or 5 times a power of ten that holds
    `highest`, so the grid lines fall on round counts."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if factor * magnitude * GRID_STEPS >= highest:
                return factor * magnitude * GRID_STEPS
        magnitude *= 10


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _label_indexes(count: int) -> list[int]:
    """At most MAX_X_LABELS dates, always the first and the last, evenly between."""
    if count <= MAX_X_LABELS:
        return list(range(count))
    step = (count - 1) / (MAX_X_LABELS - 1)
    return sorted({round(i * step) for i in range(MAX_X_LABELS)})
