"""gunicorn settings for the portal in production: `gunicorn -c deploy/gunicorn.conf.py`.

The demo, the scale-out tests and `make bench` run the portal with this same file, so what is
measured and tested is what IT deploys. Per-server values come from the environment (the
systemd unit's EnvironmentFile), everything else is fixed here.

Worker model: threads (gthread). The anti-enumeration floor ([reset] min_response_ms) makes
every reset answer wait; a waiting thread costs a few kB and no CPU, while a waiting sync worker
is a whole process that serves nobody else. `make bench` measures the floor under load.
"""
import os

wsgi_app = "wsgi:app"
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("PORTAL_WORKERS", "2"))
threads = int(os.environ.get("PORTAL_THREADS", "32"))
# Requests that take longer than this are cut: the directory and the database have timeouts of
# their own well below it, so only a hung worker reaches it.
timeout = 30
graceful_timeout = 20
keepalive = 5
# The portal writes its own access-safe lines (query values redacted); gunicorn's access log
# goes through the same filter (portal.web.logging).
accesslog = os.environ.get("PORTAL_ACCESS_LOG", "-")
errorlog = "-"
