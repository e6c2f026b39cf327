"""CSV downloads of the admin pages: one place that sets how they are served."""
from __future__ import annotations

from collections.abc import Iterable

from flask import Response


def csv_download(lines: Iterable[str], filename: str) -> Response:
    response = Response(lines, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
