"""Network faults in front of a real server, for tests of "the write was sent, the answer never came".

`SilencingRelay` is a TCP relay between a client and a real directory. It forwards everything,
counts the client's requests (a burst of client bytes after the server last spoke), and can be
told to go silent from the Nth request on: that request still REACHES the server (so the write
really happens), but neither its answer nor any later byte goes back. Encrypted traffic is fine:
the relay never looks inside, it only counts turns of the conversation.

The same relay plays the other faults of a server seen from the portal: `delay_answers(s)` holds
every chunk of the server's answers back for `s` seconds (a slow directory), and `cut()` ends every
connection and refuses new ones (the server is gone) until `restore()` listens on the same port
again (it is back). The real server behind it is never touched.
"""
from __future__ import annotations

import socket
import threading
import time
from types import TracebackType


class SilencingRelay:
    def __init__(self, upstream: tuple[str, int], address: str = "127.0.0.1") -> None:
        self.upstream = upstream
        self.address = address  # any 127.x.y.z works on Linux, e.g. one no certificate names
        self.listener = socket.create_server((address, 0))
        self.port = self.listener.getsockname()[1]
        self.requests = 0
        self.silent_from: int | None = None
        self.answer_delay = 0.0
        self._lock = threading.Lock()
        self._client_turn = False  # the client is sending; a new request starts when this flips
        self._sockets: list[socket.socket] = []
        self._listen(self.listener)

    def _listen(self, listener: socket.socket) -> None:
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def silence_from_request(self, number: int) -> None:
        """Requests are numbered from 1 across all connections since the relay started."""
        self.silent_from = number

    def delay_answers(self, seconds: float) -> None:
        """From now on, every chunk the server sends waits `seconds` before it goes on (0: none)."""
        self.answer_delay = seconds

    def cut(self) -> None:
        """The server is unreachable: open connections end, new ones are refused."""
        self.close()

    def restore(self) -> None:
        """The server is back, on the same address and port."""
        self.listener = socket.create_server((self.address, self.port))
        self._listen(self.listener)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream, timeout=5)
            server.settimeout(None)
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, from_client: bool) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                if from_client and not self._client_turn:
                    self.requests += 1
                self._client_turn = from_client
                silent = self.silent_from is not None and self.requests >= self.silent_from
            if not from_client and self.answer_delay:
                time.sleep(self.answer_delay)
            if from_client or not silent:
                try:
                    target.sendall(data)
                except OSError:
                    return

    def close(self) -> None:
        try:  # wakes the accepting thread (close alone leaves the socket listening until accept returns)
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass

    def __enter__(self) -> "SilencingRelay":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
