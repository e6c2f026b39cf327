"""Tests of portal.web: what every page has (headers, CSRF, limits, logs) and hostile input.

They need an app (`make_app`), the real OIDC provider and slapd; the logging tests start real
servers (Flask's development server, gunicorn) and the browser tests a headless Chromium.
"""
