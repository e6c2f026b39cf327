"""A generated Pwned Passwords file and a real range mirror (http.server in a thread) for the tests."""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devstack.pwned import write_pwned_file
from portal.services.passwords.rules.digests import DIGESTS
from portal.services.passwords.rules.hashfile import HASH_LENGTHS

# Passwords the other rules accept (long, uncommon, zxcvbn 4), listed here as breached
BREACHED = {"Lantern meadow, copper 19 violin": 3, "Saffron glacier piano 88 hinge": 1}
ONCE = "Saffron glacier piano 88 hinge"
CLEAN = "Marble kettle, orbit 42 fennel"  # never listed (tests.reset_support.NEW_PASSWORD)
MILLIONS = 2_000_000


@pytest.fixture(scope="session")
def pwned_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes]]:
    """Two million SHA-1 lines plus the BREACHED passwords, CRLF as on Windows; and its hashes."""
    path = tmp_path_factory.mktemp("pwned") / "pwned-passwords-sha1.txt"
    return path, write_pwned_file(path, MILLIONS, BREACHED)


def breached_toml(**keys: str | int | float) -> str:
    """A [passwords.breached] table (top-level TOML for make_app, tables may follow)."""
    return "\n".join(["[passwords.breached]", *(f"{key} = {json.dumps(value)}" for key, value in keys.items())])


class RangeMirror(ThreadingHTTPServer):
    """GET /range/PREFIX: the suffixes of the listed hashes with that prefix, padded with count-0
    lines as Pwned Passwords pads; `status` other than 200 answers that instead, and `answer`
    replaces the body. `asked` keeps every path requested (what left the portal)."""

    def __init__(self, passwords: Mapping[str, int], hash_format: str = "sha1") -> None:
        super().__init__(("127.0.0.1", 0), _RangeHandler)
        self.hashes = {DIGESTS[hash_format](p).decode(): n for p, n in passwords.items()}
        self.suffix_length = HASH_LENGTHS[hash_format] - 5
        self.status = 200
        self.answer: str | None = None
        self.asked: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/range/{{prefix}}"

    def body(self, prefix: str) -> str:
        listed = [f"{h[5:]}:{n}" for h, n in sorted(self.hashes.items()) if h.startswith(prefix)]
        padding = [f"{i:0{self.suffix_length}X}:0" for i in range(3)]
        return "\r\n".join(listed + padding)


class _RangeHandler(BaseHTTPRequestHandler):
    server: RangeMirror

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.server.asked.append(self.path)
        prefix = urlsplit(self.path).path.rsplit("/", 1)[-1]
        body = (self.server.body(prefix) if self.server.answer is None else self.server.answer).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def range_mirror(passwords: Mapping[str, int], hash_format: str = "sha1") -> Iterator[RangeMirror]:
    server = RangeMirror(passwords, hash_format)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def silent_port() -> Iterator[str]:
    """A range URL whose server accepts connections and never answers (a hung mirror)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/range/{{prefix}}"
