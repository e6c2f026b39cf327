"""The landing figure's reference: a bare Flask + Jinja page as big as the portal's landing page.

gunicorn serves it with the same deploy/gunicorn.conf.py and worker counts as the portal
(`devstack.bench.reference:app`); BENCH_REFERENCE_BYTES is the size of the page to match. It
renders a template file on every request through Flask's loader (compiled once, cached), as the
portal does, and touches nothing else.
"""
from __future__ import annotations

import os

from flask import Flask, render_template

LINE = "A line of text about as long as a sentence on a landing page, {}."

app = Flask(__name__)


def _lines(size: int) -> list[str]:
    lines: list[str] = []
    while len(render_template("reference.html", title="Passwords", lines=lines).encode()) < size:
        lines.append(LINE.format(len(lines)))
    return lines


with app.app_context():
    LINES = _lines(int(os.environ.get("BENCH_REFERENCE_BYTES", "8000")))


@app.get("/")
def page() -> str:
    return render_template("reference.html", title="Passwords", lines=LINES)


@app.get("/healthz")
def healthz() -> str:
    return "ok"
