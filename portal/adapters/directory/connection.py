"""LDAP connections: TLS that checks certificates, timeouts everywhere, a pool for the service account.

The pool keeps bound service-account connections between requests (binding costs a round trip
and, on AD, a TLS handshake). A connection the server closed (directory restarted) is noticed
without a round trip, by peeking at its socket, and replaced: so after a restart the next request
simply works, and a write is never sent on a dead connection (which would make its outcome look
unknown when nothing was sent at all).

Exceptions from ldap3 are turned into domain errors here, by `domain_error` and nowhere else:
DirectoryUnavailable (nothing sent, or nothing changed), OutcomeUnknown (a write was sent and no
answer came) or, for a request ldap3 refused to build (a value, DN or filter it cannot encode:
its own exceptions, ValueError, UnicodeError), DirectoryError (nothing sent). Nothing above this
module sees ldap3's exception types. Passwords reach ldap3 as bytes (passwords.py), so it sends
them as typed instead of applying SASLprep.
"""
from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import ldap3
from ldap3.core import exceptions as ldap_errors
from pyasn1.error import PyAsn1Error

from ...settings.directory import DirectorySettings
from . import passwords
from .errors import DirectoryError, DirectoryUnavailable, OutcomeUnknown, WrongPassword

log = logging.getLogger(__name__)

# Failures of the transport (connect, TLS, send, receive, timeout), as opposed to LDAP results.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    ldap_errors.LDAPCommunicationError, ldap_errors.LDAPSocketOpenError,
    ldap_errors.LDAPSessionTerminatedByServerError, ldap_errors.LDAPResponseTimeoutError,
    ldap_errors.LDAPStartTLSError, ldap_errors.LDAPSSLConfigurationError,
    ldap_errors.LDAPMaximumRetriesError, ssl.SSLError, OSError)
# Everything else ldap3 raises when it cannot build or read a request: its own exceptions,
# ValueError (UnicodeError is one), pyasn1's, and the KeyError pyasn1 wraps them in when a
# request field is set ("duck-typing dict"): a DN with a lone surrogate gets that far.
LIBRARY_ERRORS: tuple[type[Exception], ...] = (ldap_errors.LDAPException, ValueError, PyAsn1Error, KeyError)
LDAP3_ERRORS = TRANSPORT_ERRORS + LIBRARY_ERRORS


def domain_error(error: Exception, doing: str, *, sent: bool = False) -> DirectoryError:
    """The domain error for an exception out of ldap3 (or the socket under it) while `doing`.

    `sent`: a write request may have left (silence then means its outcome is unknown)."""
    if isinstance(error, TRANSPORT_ERRORS):
        if sent and not isinstance(error, ldap_errors.LDAPSocketSendError):
            return OutcomeUnknown(f"{doing}: sent, no answer: {error}")
        return DirectoryUnavailable(f"{doing}: {error}")
    log.warning("ldap3 could not handle a request while %s", doing, exc_info=error)  # the traceback
    return DirectoryError(f"{doing}: ldap3 refused the request ({type(error).__name__}: {error})")


@dataclass(frozen=True)
class Endpoint:
    """How to reach the directory: the URL's host and port, TLS mode and certificate checks."""

    settings: DirectorySettings

    @property
    def host(self) -> str:
        return urlsplit(self.settings.url).hostname or ""

    @property
    def ldaps(self) -> bool:
        return urlsplit(self.settings.url).scheme == "ldaps"

    @property
    def encrypted(self) -> bool:
        return self.ldaps or self.settings.start_tls

    def tls(self) -> ldap3.Tls:
        names = [self.settings.tls_server_name] if self.settings.tls_server_name else None
        # version=None: Python's default client context (TLS 1.2 or later); ldap3 then checks the
        # certificate names the URL's host or `tls_server_name`.
        return ldap3.Tls(validate=ssl.CERT_REQUIRED, version=None,
                         ca_certs_file=self.settings.ca_file or None, valid_names=names)

    def server(self) -> ldap3.Server:
        """A new Server each time: ldap3 marks a refused address unusable for a while otherwise."""
        parts = urlsplit(self.settings.url)
        assert parts.hostname is not None  # settings/directory.py refuses a URL without a host
        port = parts.port or (636 if self.ldaps else 389)
        return ldap3.Server(parts.hostname, port=port, use_ssl=self.ldaps,
                            tls=self.tls() if self.encrypted else None, get_info=ldap3.NONE,
                            connect_timeout=self.settings.timeout_seconds)

    def open(self, user: str | None, password: str | None) -> ldap3.Connection:
        """Connect and secure, for a bind as `user` with `password` exactly as typed (its UTF-8
        bytes, which ldap3 sends without SASLprep). Raises DirectoryUnavailable, or
        PasswordCharactersRefused before connecting; the bind itself is `bind()`'s."""
        if user is not None and not password:
            raise WrongPassword("empty password refused before any bind")  # else: anonymous bind
        typed = passwords.as_typed(password) if password is not None else None
        try:
            # ldap3 sends bytes as they are (its stubs name only str, which it would SASLprep).
            conn = ldap3.Connection(self.server(), user=user, password=typed,  # type: ignore[arg-type]
                                    authentication=ldap3.SIMPLE if user else ldap3.ANONYMOUS,
                                    receive_timeout=self.settings.timeout_seconds,
                                    raise_exceptions=False, auto_referrals=False, read_only=False)
        except LDAP3_ERRORS as error:
            raise domain_error(error, f"connecting to {self.settings.url}") from error
        try:
            conn.open()
            if self.settings.start_tls and not self.ldaps and not conn.start_tls():
                raise DirectoryUnavailable(f"StartTLS refused: {conn.result}")
        except LDAP3_ERRORS as error:
            close(conn)
            raise domain_error(error, f"connecting to {self.settings.url}") from error
        return conn


def bind(conn: ldap3.Connection, controls: list[tuple[str, bool, bytes | None]] | None = None) -> bool:
    """Bind on an open connection; ldap3's exceptions become domain errors (domain_error)."""
    try:
        return bool(conn.bind(controls=controls))
    except LDAP3_ERRORS as error:
        close(conn)
        raise domain_error(error, "bind") from error


def close(conn: ldap3.Connection) -> None:
    try:
        conn.unbind()
    except LDAP3_ERRORS:
        pass


def server_closed(conn: ldap3.Connection) -> bool:
    """True when the server hung up or sent something unasked (a notice of disconnection).

    Peeks at the TCP socket without blocking, under TLS too (the TLS layer is bypassed: any
    byte waiting on an idle LDAP connection means it is not safe to reuse).
    """
    sock = conn.socket
    if conn.closed or sock is None:
        return True
    timeout = sock.gettimeout()
    try:
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        sock.settimeout(0.0)  # with a timeout set, Python would wait for data instead of peeking
        socket.socket.recv(sock, 1, socket.MSG_PEEK)
        return True  # b"" is end of stream; bytes are a message nobody asked for
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        try:
            sock.settimeout(timeout)
        except OSError:
            pass


T = TypeVar("T")
Operation = Callable[[ldap3.Connection], T]


def send_write(request: Callable[[], T]) -> T:
    """Send one write. Not sent: DirectoryUnavailable (or DirectoryError when ldap3 could not
    build it); sent but unanswered: OutcomeUnknown."""
    try:
        return request()
    except LDAP3_ERRORS as error:
        raise domain_error(error, "write", sent=True) from error


class ServicePool:
    """Bound service-account connections, reused across requests and threads (one user each)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._idle: list[tuple[float, ldap3.Connection]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(endpoint.settings.pool_size)

    def read(self, operation: Operation[T]) -> T:
        """Run a read; a connection lost under it is replaced once, then DirectoryUnavailable."""
        try:
            return self._run(operation)
        except TRANSPORT_ERRORS as first:
            log.info("directory connection lost during a read (%s); retrying on a new one", first)
        try:
            return self._run(operation)
        except TRANSPORT_ERRORS as error:
            raise domain_error(error, "read") from error

    def stream(self, operation: Callable[[ldap3.Connection], Iterator[T]]) -> Iterator[T]:
        """Run a read that hands on its results as they come (a listing of everybody). A
        connection lost before the first result is replaced once, as in `read`; after that the
        caller has results it cannot give back, so the loss is DirectoryUnavailable."""
        for attempt in (1, 2):
            started = False
            try:
                for item in self._stream(operation):
                    started = True
                    yield item
                return
            except TRANSPORT_ERRORS as error:
                if started or attempt == 2:
                    raise domain_error(error, "read") from error
                log.info("directory connection lost during a read (%s); retrying on a new one", error)

    def _stream(self, operation: Callable[[ldap3.Connection], Iterator[T]]) -> Iterator[T]:
        """`_run` for a generator: the connection and the slot are held while the caller reads,
        and a connection left mid-read (an error, or the caller stopping early) is closed, not
        pooled: the server may still hold the unfinished search's state on it."""
        if not self._slots.acquire(timeout=self.endpoint.settings.timeout_seconds):
            raise DirectoryUnavailable("every pooled directory connection is busy")
        conn: ldap3.Connection | None = None
        finished = False
        try:
            conn = self._take() or self._open()
            yield from operation(conn)
            finished = True
        except LIBRARY_ERRORS as error:
            if isinstance(error, TRANSPORT_ERRORS):
                raise
            raise domain_error(error, "directory request") from error
        finally:
            if conn is not None:
                if finished:
                    self._give_back(conn)
                else:
                    close(conn)
            self._slots.release()

    def write(self, operation: Operation[T]) -> T:
        """Run ONE write request. No retry: once sent, silence means the outcome is unknown."""
        return self._run(lambda conn: send_write(lambda: operation(conn)))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for _, conn in idle:
            close(conn)

    def _run(self, operation: Operation[T]) -> T:
        """Run `operation` on a pooled connection. Transport errors are left to `read` (which
        retries them); any other ldap3 exception becomes a domain error here."""
        if not self._slots.acquire(timeout=self.endpoint.settings.timeout_seconds):
            raise DirectoryUnavailable("every pooled directory connection is busy")
        conn: ldap3.Connection | None = None
        try:
            conn = self._take() or self._open()
            result = operation(conn)
        except BaseException as error:
            # A refused password is an answer on a healthy connection; anything else may not be.
            if conn is not None and not (isinstance(error, DirectoryError)
                                         and not isinstance(error, (DirectoryUnavailable, OutcomeUnknown))):
                close(conn)
                conn = None
            if isinstance(error, LIBRARY_ERRORS) and not isinstance(error, TRANSPORT_ERRORS):
                raise domain_error(error, "directory request") from error
            raise
        finally:
            if conn is not None:
                self._give_back(conn)
            self._slots.release()
        return result

    def _take(self) -> ldap3.Connection | None:
        now = time.monotonic()
        while True:
            with self._lock:
                if not self._idle:
                    return None
                since, conn = self._idle.pop()
            if now - since < self.endpoint.settings.pool_max_idle_seconds and not server_closed(conn):
                return conn
            close(conn)

    def _give_back(self, conn: ldap3.Connection) -> None:
        with self._lock:
            self._idle.append((time.monotonic(), conn))

    def _open(self) -> ldap3.Connection:
        settings = self.endpoint.settings
        conn = self.endpoint.open(settings.bind_dn, settings.bind_password)
        if not bind(conn):
            result = dict(conn.result)
            close(conn)
            # A wrong service password or a locked service account: IT must fix the settings.
            raise DirectoryUnavailable(f"service account bind refused: {result.get('result')} "
                                       f"{result.get('description')} {result.get('message')}")
        return conn
