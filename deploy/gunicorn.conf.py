"""gunicorn settings for the portal in production: `gunicorn -c deploy/gunicorn.conf.py`.

The demo, the scale-out tests and `make bench` run the portal with this same file, so what is
measured and tested is what IT deploys. Per-server values come from the environment (the
systemd unit's EnvironmentFile), everything else is fixed here.

Worker model: threads (gthread), 2 workers x 32 threads by default. The anti-enumeration floor
([reset] min_response_ms, 300 ms) makes every paced reset answer wait; a waiting thread costs a
few kB and no CPU, while a waiting sync worker is a whole process that serves nobody else.
Measured with `python -m devstack.bench.models` (1,000 people, 2 workers, the 2-core machine
shared with other work; p95 under 32 paced requests in flight from 32 addresses):

  model         landing p95 loaded/unloaded   paced steps p95   landing ratio (CPU per answer)
  sync          625x                          5.5-5.9 s         0.35
  gthread x 8   118x                          1.7-2.2 s         0.43
  gthread x 32  9x                            0.84-0.87 s       0.44

With sync workers two paced requests take both processes and everything else queues behind
the floor; with 8 threads, 16 requests fit and the other 16 queue. 32 threads per worker hold
every waiting request, so what remains is CPU: the paced steps' own service time (see `make
bench`'s reset_service figures), not the floor. The landing page costs the same CPU per answer
in every model (1.0-1.4 ms here), so the thread count does not trade throughput away.

Re-measured after the paced steps' cost was profiled (the paced figure, settings interleaved,
3,000 people, the machine at load 10-19 from other work): 2x32, 4x16, and each with a 1 ms GIL switch interval
(sys.setswitchinterval) all gave a paced landing p95 ratio of 7-18x and paced p95s of 0.6-1.6 s,
varying more from round to round than between settings. Under the paced load the workers are
short of CPU (about 15 ms of worker CPU per paced request at 32 clients, from /proc at that
load; py-spy puts it in SQLAlchemy and the directory reads of each step), so no thread or process count helps: what does is less CPU per step. 2x32 stays.
gevent is not among the requirements, and would need psycopg and ldap3 under monkey-patching.

The app is preloaded: built once in the master, then forked, so the workers share its pages
(imports, templates, settings) instead of each building its own. portal/workers.py gives each
worker its own database and LDAP connections, locks and outbox thread (post_fork below), and the
master freezes its objects out of the garbage collector before forking, so a collection in a
worker does not touch (and copy) every shared page. A preloaded app does not pick up new code
on SIGHUP: restart the service to deploy (systemd `restart`, not `reload`).
"""
import gc
import os

wsgi_app = "wsgi:app"
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("PORTAL_WORKERS", "2"))
threads = int(os.environ.get("PORTAL_THREADS", "32"))
preload_app = True
# Requests that take longer than this are cut: the directory and the database have timeouts of
# their own well below it, so only a hung worker reaches it.
timeout = 30
graceful_timeout = 20
keepalive = 5
# The portal writes its own access-safe lines (query values redacted); gunicorn's access log
# goes through the same filter (portal.web.logging).
accesslog = os.environ.get("PORTAL_ACCESS_LOG", "-")
errorlog = "-"


def _preloaded_portal(worker):  # noqa: ANN001, ANN202
    """The portal built in the master (None when not preloaded, or another app, such as the
    bench's reference page, is served)."""
    app = getattr(worker.app, "callable", None)
    is_portal = "collaborators" in getattr(app, "extensions", {})  # portal/services/container.py EXTENSION
    return app if is_portal else None


def pre_fork(server, worker):  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """In the master: build the password lists once (shared, not one copy per worker), then keep
    the collector off everything that exists now, which the worker shares."""
    if _preloaded_portal(worker) is not None:
        from portal.workers import before_fork

        before_fork()
    gc.freeze()


def post_fork(server, worker):  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """In the new worker, before it serves: its own connections, locks and threads."""
    app = _preloaded_portal(worker)
    if app is not None:
        from portal.workers import after_fork

        after_fork(app)
