"""HTTP clients of the bench: a throughput hammer, a latency sampler, and a browser for flows.

The hammer opens a new connection per request, as a reverse proxy in front of the portal does by
default, from processes of its own so the bench's other threads do not slow it down; the same
hammer runs against the portal and against the reference, so what it costs cancels out.
"""
from __future__ import annotations

import http.client
import multiprocessing
import re
import statistics
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from urllib.parse import urljoin

import requests

from devstack.oidc_provider import sign_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HAMMER_PROCESSES = 2
HAMMER_THREADS = 4


def _get(port: int, path: str, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _hammer_process(port: int, path: str, seconds: float, threads: int) -> int:
    done = [0] * threads
    deadline = time.monotonic() + seconds

    def loop(slot: int) -> None:
        headers = {"X-Forwarded-For": f"10.9.{slot}.1"}
        while time.monotonic() < deadline:
            if _get(port, path, headers) == 200:
                done[slot] += 1

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done)


def requests_per_second(port: int, path: str, seconds: float) -> float:
    """Successful GETs per second with HAMMER_PROCESSES x HAMMER_THREADS clients in a loop."""
    context = multiprocessing.get_context("fork")
    with context.Pool(HAMMER_PROCESSES) as pool:
        counts = pool.starmap(_hammer_process, [(port, path, seconds, HAMMER_THREADS)] * HAMMER_PROCESSES)
    return sum(counts) / seconds


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class LatencySampler:
    """One client GETting `path` back to back, keeping each answer's time.

    It runs in a process of its own, as the hammer does: in a thread of the bench's process it
    would wait for that process's GIL behind the paced clients' threads (32 of them, each parsing
    answers), and count that wait into the portal's latency."""

    def __init__(self, port: int, path: str = "/") -> None:
        context = multiprocessing.get_context("fork")
        self.samples: list[float] = []
        self._stop = context.Event()
        self._received, sent = context.Pipe(duplex=False)
        self._process = context.Process(target=_sample, args=(port, path, self._stop, sent), daemon=True)

    def __enter__(self) -> "LatencySampler":
        self._process.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self.samples = self._received.recv()
        self._process.join()


def _sample(port: int, path: str, stop: Event, sent: Connection) -> None:
    headers = {"X-Forwarded-For": "10.8.0.1"}
    samples: list[float] = []
    while not stop.is_set():
        samples.append(timed(lambda: _get(port, path, headers)))
        stop.wait(0.01)
    sent.send(samples)


class Browser:
    """A requests session from one client address (X-Forwarded-For; the portal trusts one proxy)."""

    def __init__(self, base_url: str, address: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["X-Forwarded-For"] = address
        self.times: dict[str, float] = {}
        self.token = ""

    def get(self, path: str, step: str | None = None) -> requests.Response:
        """GET a page; its form's CSRF token is what the next POST sends."""
        response = self._send("GET", path, step, None)
        found = CSRF.search(response.text)
        self.token = found.group(1) if found else self.token
        return response

    def post(self, path: str, data: dict[str, str], step: str | None = None) -> requests.Response:
        """POST a form of the last page fetched, as a browser would."""
        if not self.token:
            raise RuntimeError(f"no CSRF token for POST {path}: GET its page first")
        return self._send("POST", path, step, {"csrf_token": self.token, **data})

    def _send(self, method: str, path: str, step: str | None, data: dict[str, str] | None) -> requests.Response:
        started = time.perf_counter()
        response = self.session.request(method, urljoin(self.base_url, path), data=data,
                                        allow_redirects=False, timeout=60)
        response.content  # noqa: B018 - read the whole body inside the timing
        if step is not None:
            self.times[step] = time.perf_counter() - started
        if response.status_code >= 500:
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code}")
        return response

    def sign_in(self, username: str, password: str) -> None:
        """Through the dev provider, as a person's browser does."""
        start = self._send("GET", "/signin", None, None)
        with requests.Session() as at_provider:
            callback = sign_in(at_provider, start.headers["Location"], username, password)
        answer = self.session.get(callback, allow_redirects=False, timeout=60)
        if answer.status_code != 302:
            raise RuntimeError(f"sign-in as {username} failed: HTTP {answer.status_code}")

    def close(self) -> None:
        self.session.close()
