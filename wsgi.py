"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`.

A settings problem ends the process here with one line per problem and exit code 2, so a
service manager shows the admin exactly which key to fix instead of a traceback.
"""
import sys

from portal import create_app
from portal.settings import SettingsError

try:
    app = create_app()
except SettingsError as error:
    for problem in error.problems:
        print(f"portal: settings error: {problem}", file=sys.stderr)
    raise SystemExit(2) from None
