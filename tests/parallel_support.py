"""Many requests at once from one browser session: from threads of one portal process, or from
threads of several portal processes (spawned, each building its own app from the same settings).

Kept apart from the fixtures on purpose: a spawned process imports this module, and nothing here
starts a server or takes a port.
"""
from __future__ import annotations

import multiprocessing
import threading
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from portal import create_app
from portal.settings import Settings


def at_once(app: Flask, cookie: str, path: str, data: dict[str, str], count: int) -> list[int]:
    """POST `data` to `path` from `count` threads released together, all in the session `cookie`."""
    clients = [_client(app, cookie) for _ in range(count)]
    start = threading.Barrier(count)
    statuses = [0] * count

    def post(index: int) -> None:
        start.wait()
        statuses[index] = clients[index].post(path, data=data, base_url=_base_url(app)).status_code

    threads = [threading.Thread(target=post, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses


def in_processes(settings: Settings, cookie: str, path: str, data: dict[str, str], *, processes: int,
                 threads: int) -> list[int]:
    """The same from `processes` separate portal processes with `threads` threads each, all released
    together once every process has built its app; the statuses of every request."""
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_portal_process, args=(settings, cookie, path, data, threads, start, results))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    statuses: list[int] = []
    for _ in workers:
        answers = results.get(timeout=300)
        assert isinstance(answers, list), f"a portal process failed: {answers}"
        statuses += answers
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0, f"portal process {worker.pid} exited with {worker.exitcode}"
    return statuses


def _portal_process(settings: Settings, cookie: str, path: str, data: dict[str, str], threads: int,
                    start: Any, results: Any) -> None:
    try:
        app = create_app(settings)
        start.wait(120)
        results.put(at_once(app, cookie, path, data, threads))
    except BaseException as error:
        results.put(repr(error))
        raise


def _client(app: Flask, cookie: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie, domain=urlsplit(_base_url(app)).hostname or "")
    return client


def _base_url(app: Flask) -> str:
    return app.extensions["settings"].base_url
