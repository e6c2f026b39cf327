"""The dev stack's SMS gateway: a real HTTP endpoint in the shape of the portal's webhook gateway.

The portal's webhook adapter (portal/adapters/sms/webhook.py) POSTs its default JSON body,
{"to": "+12015550101", "message": "..."}, to http://127.0.0.1:<port>/sms; the sink keeps each
text as a .json file (like the mail sink's .eml files) and tells a listener, so the demo prints
every code it sends by SMS. Anything else gets a 4xx, as a gateway would answer it.
Run standalone with `python -m devstack.smssink --port 2526 --folder DIR`.
"""
from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from devstack.spool import Spool

PATH = "/sms"
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Text:
    """One text message as the gateway received it."""

    to: str
    message: str


def parse(raw: bytes) -> Text:
    """A kept text (the sink wrote the file)."""
    return Text(**json.loads(raw))


def _text_of(body: bytes) -> Text | None:
    """The text in a webhook body, or None when it is not one ({"to": str, "message": str})."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("to", "message")):
        return None
    return Text(to=data["to"], message=data["message"])


class SmsSink:
    """An HTTP server on 127.0.0.1:<port> (in a thread) that keeps every text in `folder`."""

    def __init__(self, port: int, folder: Path, on_text: Callable[[Text], None] | None = None) -> None:
        self.port = port
        self.folder = folder
        self.spool = Spool(folder, ".json")
        self.on_text = on_text
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, name="sms-sink", daemon=True)

    @property
    def url(self) -> str:
        """What [sms.webhook] url names."""
        return f"http://127.0.0.1:{self.port}{PATH}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != PATH:
                    return self._answer(404, {"error": f"POST texts to {PATH}"})
                if not 0 < length <= MAX_BODY:
                    return self._answer(413 if length else 400, {"error": "a JSON body of at most 64 KiB"})
                text = _text_of(self.rfile.read(length))
                if text is None:
                    return self._answer(400, {"error": 'expected {"to": "...", "message": "..."}'})
                sink.receive(text)
                return self._answer(200, {"status": "accepted"})

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args: Any) -> None:
                pass  # one line per text comes from on_text; the request lines say nothing more

        return Handler

    def receive(self, text: Text) -> None:
        self.spool.save(json.dumps(asdict(text)).encode())
        if self.on_text is not None:
            self.on_text(text)

    def start(self) -> None:
        self.spool.create()
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def texts(self) -> list[Text]:
        """Every text received so far, oldest first."""
        return [parse(content) for content in self.spool.contents()]

    def clear(self) -> None:
        self.spool.clear()

    def wait_for(self, predicate: Callable[[Text], bool], timeout: float = 5.0) -> Text:
        """The first text that satisfies `predicate`; TimeoutError if none arrives in time."""
        return self.spool.wait_for(parse, predicate, timeout)

    def __enter__(self) -> "SmsSink":
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


def summary(text: Text) -> str:
    return f"SMS to {text.to}: {text.message}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    with SmsSink(args.port, args.folder, on_text=lambda t: print(summary(t), flush=True)) as sink:
        print(f"SMS gateway at {sink.url}, texts saved in {args.folder}", flush=True)
        stopped.wait()


if __name__ == "__main__":
    main()
