"""Reset flows by email code, driven over HTTP like a browser, one client address each."""
from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from . import seed
from .clients import Browser
from .mailbox import Mailbox

# Paced steps (held to [reset] min_response_ms) and every request of a whole flow, in order.
PACED = ("identify", "choose", "check_code")
STEPS = ("start", "identify", "verify", "choose", "code", "check_code", "password", "write")


class People:
    """Hands out people who have not been through a reset in this run (thread-safe), so no
    per-account budget or pause colours a figure. Person 0 upwards; wraps at the population's end."""

    def __init__(self, size: int) -> None:
        self._next: Iterator[int] = itertools.cycle(range(size))
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            return next(self._next)


def _expect(response_status: int, wanted: int, what: str) -> None:
    if response_status != wanted:
        raise RuntimeError(f"{what}: HTTP {response_status}, expected {wanted}")


def whole_flow(base_url: str, mailbox: Mailbox, index: int, address: str) -> dict[str, float]:
    """identify, verify by a code mailed to the alternate address, new password: each request's
    seconds, and "total" (which includes the wait for the mail)."""
    name = seed.login(index)
    browser = Browser(base_url, address)
    try:
        started = time.perf_counter()
        _expect(browser.get("/reset/", "start").status_code, 200, "GET /reset/")
        _expect(browser.post("/reset/", {"identifier": name}, "identify").status_code, 303, "identify")
        _expect(browser.get("/reset/verify", "verify").status_code, 200, "GET /reset/verify")
        _expect(browser.post("/reset/verify", {"method": "email"}, "choose").status_code, 303, "choose")
        _expect(browser.get("/reset/code", "code").status_code, 200, "GET /reset/code")
        code = mailbox.code_for(seed.alternate_email(name))
        _expect(browser.post("/reset/code", {"code": code}, "check_code").status_code, 303, "check code")
        _expect(browser.get("/reset/password", "password").status_code, 200, "GET /reset/password")
        new = f"Marble kettle, orbit {index} fennel"
        written = browser.post("/reset/password", {"new_password": new, "new_password_again": new}, "write")
        _expect(written.status_code, 200, "write")
        browser.times["total"] = time.perf_counter() - started
        return dict(browser.times)
    finally:
        browser.close()


def paced_steps(browser: Browser, index: int) -> dict[str, float]:
    """The three paced steps for one person, ending on a wrong code: seconds of each. `browser`
    already holds a form token (one GET per client, so nearly every request in flight is paced)."""
    _expect(browser.post("/reset/", {"identifier": seed.login(index)}, "identify").status_code, 303, "identify")
    _expect(browser.post("/reset/verify", {"method": "email"}, "choose").status_code, 303, "choose")
    _expect(browser.post("/reset/code", {"code": "000000"}, "check_code").status_code, 400, "wrong code")
    return dict(browser.times)


@dataclass
class Collected:
    """Seconds per step over many flows."""

    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, times: dict[str, float]) -> None:
        with self.lock:
            for step, seconds in times.items():
                self.times.setdefault(step, []).append(seconds)

    def failed(self, error: Exception) -> None:
        with self.lock:
            self.errors.append(f"{type(error).__name__}: {error}")


def at_once(count: int, run: Callable[[int], dict[str, float]], collected: Collected) -> None:
    """`count` threads start `run(slot)` together and each adds what it measured."""
    barrier = threading.Barrier(count)

    def one(slot: int) -> None:
        barrier.wait()
        try:
            collected.add(run(slot))
        except Exception as error:  # noqa: BLE001 - a failed flow is reported, not a crash
            collected.failed(error)

    threads = [threading.Thread(target=one, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def keep_paced(count: int, base_url: str, people: People, stop: threading.Event, collected: Collected) -> list[threading.Thread]:
    """`count` clients (10.7.0.N each) doing paced steps back to back until `stop`."""
    def loop(slot: int) -> None:
        browser = Browser(base_url, f"10.7.{slot // 250}.{slot % 250 + 1}")
        try:
            browser.get("/reset/")
            while not stop.is_set():
                collected.add(paced_steps(browser, people.take()))
        except Exception as error:  # noqa: BLE001 - reported with the figure
            collected.failed(error)
        finally:
            browser.close()

    threads = [threading.Thread(target=loop, args=(slot,), daemon=True) for slot in range(count)]
    for thread in threads:
        thread.start()
    return threads
