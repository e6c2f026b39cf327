"""The deployment doctor: every outside thing the portal depends on, checked and explained, one line each.

"Password was refused" and "the portal says unavailable" support threads mostly end at a setting:
a CA file, a missing right, an administrator the portal refuses by design, a clock, a proxy header.
Each check here says what it found and, when something is wrong, what to change. `flask --app wsgi
doctor` prints the lines; the admin overview runs the same checks on demand, with its request,
which also lets it compare what the proxy sends with base_url.

Nothing here changes anything, except a test message when one is asked for (`mail_to`): the
directory's rights are probed by requests that cannot change the test account (diagnostics.py).
Network checks use a short timeout (TIMEOUT_SECONDS, or the setting's own when that is shorter),
so the doctor answers within seconds when a server is down. No secret is ever part of a line.
"""
from __future__ import annotations

import dataclasses
import smtplib
import ssl
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import redis
import requests
from sqlalchemy.exc import SQLAlchemyError

from ...adapters.directory import create_directory, diagnostics
from ...adapters.mail.message import Mail, MailError
from ...adapters.mail.smtp import SmtpSender
from ...settings import Settings
from ...store.migrate import UPGRADE_COMMAND, current_revision, revisions, schema_behind
from ..container import Collaborators
from ..identity.oidc import SignInError

OK, WARN, FAIL = "ok", "warn", "fail"
TIMEOUT_SECONDS = 3
STATUS = {diagnostics.OK: OK, diagnostics.WARNING: WARN, diagnostics.FAILED: FAIL}
KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}  # algorithm prefix -> JWK kty


@dataclass(frozen=True)
class Finding:
    check: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        fix = f" — fix: {self.fix}" if self.fix else ""
        return f"{self.status:<6}{self.check}: {self.detail}{fix}"


@dataclass(frozen=True)
class RequestView:
    """What the portal sees of a request after ProxyFix, to compare with base_url (admin page)."""

    scheme: str
    host: str
    remote_addr: str
    forwarded_for: str | None
    forwarded_proto: str | None


def diagnose(c: Collaborators, *, seen: RequestView | None = None, mail_to: str | None = None) -> list[Finding]:
    """Every check, in the order a deployment is usually fixed: store, directory, sign-in, mail, proxy.

    The servers are asked at the same time, so servers that do not answer cost one timeout, not one each."""
    groups: tuple[Callable[[], Iterable[Finding]], ...] = (
        lambda: _store(c), lambda: _rate_limits(c.settings), lambda: _directory(c), lambda: _provider(c),
        lambda: _mail(c, mail_to), lambda: [_base_url(c.settings, seen)])
    with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="doctor") as pool:
        return [finding for found in pool.map(lambda group: list(group()), groups) for finding in found]


def _timeout(configured: int) -> int:
    return min(configured, TIMEOUT_SECONDS)


# -- the store and Redis ---------------------------------------------------------------------

def _store(c: Collaborators) -> Iterator[Finding]:
    try:
        behind = schema_behind(c.store)
        current = current_revision(c.store)
    except SQLAlchemyError as error:
        yield Finding("database", FAIL, f"not reachable ({type(error).__name__})",
                      "check [database] url and that the database server is up")
        return
    if behind:
        yield Finding("migrations", FAIL, f"database at {current or 'no revision (empty)'}, code at "
                                          f"{revisions()[-1]}", f"run `{UPGRADE_COMMAND}`")
    else:
        yield Finding("migrations", OK, f"database at {current}, the code's head is {revisions()[-1]}")


def _rate_limits(settings: Settings) -> Iterator[Finding]:
    uri = settings.rate_limits.storage_uri
    if uri == "memory://":
        return  # nothing to reach (and /readyz says nothing of it either)
    where = f"{urlsplit(uri).hostname}:{urlsplit(uri).port or 6379}"  # the URI may hold a password
    client = redis.Redis.from_url(uri, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
    try:
        client.ping()
    except redis.RedisError as error:
        yield Finding("redis", FAIL, f"{where} does not answer ({type(error).__name__}): every rate-limited "
                                     "page answers 503", "start Redis or correct [rate_limits] storage_uri")
        return
    finally:
        client.close()
    yield Finding("redis", OK, f"{where} answers (keys start with {settings.rate_limits.key_prefix!r})")


# -- the directory ---------------------------------------------------------------------------

def _directory(c: Collaborators) -> Iterator[Finding]:
    settings = c.settings.directory
    if c.configured_directory is None or settings is None:
        return
    # its own connections with the short timeout: the app's pool may hold ones that still work
    directory = create_directory(dataclasses.replace(settings, timeout_seconds=_timeout(settings.timeout_seconds)))
    try:
        lines = list(diagnostics.run(directory))
        yield from map(_finding, lines)
        if any(line.status == diagnostics.FAILED for line in lines):
            return
        if settings.doctor_test_account:
            yield from map(_finding, diagnostics.rights(directory, settings.doctor_test_account))
        else:
            yield Finding("directory rights", WARN, "not checked", "set [directory] doctor_test_account "
                          "to an ordinary test account's login name to check")
        yield from map(_finding, diagnostics.protected(directory))
    finally:
        directory.close()


def _finding(line: diagnostics.Line) -> Finding:
    return Finding(f"directory {line.step}", STATUS[line.status], line.detail, line.fix)


# -- the identity provider -------------------------------------------------------------------

def _provider(c: Collaborators) -> Iterator[Finding]:
    """Fetched here rather than through authlib, for the short timeout and the answer's Date header."""
    oidc = c.configured_oidc
    if oidc is None:
        return
    timeout = _timeout(oidc.settings.timeout_seconds)
    try:
        answer = _get_json(oidc.discovery_url, timeout)
        metadata = oidc.pinned(answer.json())
    except (requests.RequestException, ValueError, SignInError) as error:
        yield Finding("provider discovery", FAIL, f"{oidc.discovery_url}: {_reason(error)}",
                      "check [oidc] issuer (exactly as the provider spells it) and that the provider is up")
        return
    yield Finding("provider discovery", OK, f"{oidc.settings.issuer} answers, issuer matches")
    yield _skew(answer.headers.get("Date"), c, oidc.settings.clock_skew_seconds)
    try:
        keys = _get_json(str(metadata.get("jwks_uri")), timeout).json()["keys"]
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        yield Finding("provider keys", FAIL, f"JWKS at {metadata.get('jwks_uri')} not readable ({_reason(error)})",
                      "check the provider's jwks_uri")
        return
    yield _keys(keys if isinstance(keys, list) else [], oidc.settings.id_token_algorithms)


def _get_json(url: str, timeout: int) -> requests.Response:
    answer = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
    answer.raise_for_status()
    return answer


def _reason(error: Exception) -> str:
    return str(error) if isinstance(error, SignInError) else type(error).__name__


def _keys(keys: list[dict[str, object]], algorithms: list[str]) -> Finding:
    kinds = {str(k.get("kty")) for k in keys if isinstance(k, dict)}
    usable = [a for a in algorithms if KEY_TYPES.get(a[:2]) in kinds]
    if not usable:
        return Finding("provider keys", FAIL, f"{len(keys)} key(s) ({', '.join(sorted(kinds)) or 'none'}), none "
                                              f"for {', '.join(algorithms)}: every sign-in would be refused",
                       "set [oidc] id_token_algorithms to what the provider signs with")
    return Finding("provider keys", OK, f"{len(keys)} key(s), usable for {', '.join(usable)}")


def _skew(date: str | None, c: Collaborators, allowed: int) -> Finding:
    """The provider's HTTP Date against our clock: ID tokens carry its time (iat, exp), and one
    off by more than clock_skew_seconds is refused. Date has whole seconds, so 1 s is noise."""
    try:
        theirs = parsedate_to_datetime(date or "")
    except (TypeError, ValueError):
        return Finding("clock skew", WARN, "not checked: the provider's answer has no Date header",
                       "compare the clocks by hand; both should use NTP")
    skew = round((theirs - c.clock.utcnow()).total_seconds())
    found = f"the provider's clock is {abs(skew)} s {'ahead of' if skew > 0 else 'behind'} ours" if skew \
        else "the provider's clock agrees with ours"
    if abs(skew) > allowed:
        return Finding("clock skew", FAIL, f"{found}, more than clock_skew_seconds ({allowed}): ID tokens are "
                                           "refused", "synchronise both clocks with NTP")
    if abs(skew) > max(allowed // 2, 2):
        return Finding("clock skew", WARN, f"{found} (allowed {allowed})", "synchronise both clocks with NTP")
    return Finding("clock skew", OK, f"{found} (allowed {allowed})")


# -- mail ------------------------------------------------------------------------------------

def _mail(c: Collaborators, mail_to: str | None) -> Iterator[Finding]:
    settings = c.settings.mail
    if not settings.configured:
        if mail_to:
            yield Finding("mail", FAIL, "no test message sent: [mail] is not configured", "set [mail] host and "
                                                                                          "from_address")
        return
    sender = SmtpSender(dataclasses.replace(settings, timeout_seconds=_timeout(settings.timeout_seconds)))
    where = f"{settings.host}:{settings.port}"
    try:
        smtp = sender.connect()
    except (OSError, smtplib.SMTPException) as error:
        yield Finding("mail", FAIL, f"{where} ({settings.security}): {type(error).__name__}: {error}",
                      "check [mail] host, port, security and the server's certificate (ca_file)")
        return
    try:
        greeting = (smtp.ehlo_resp or b"").decode("ascii", "replace").splitlines()[:1]
        offers_tls = smtp.has_extn("starttls")
        version = smtp.sock.version() if isinstance(smtp.sock, ssl.SSLSocket) else None
        smtp.quit()
    except (OSError, smtplib.SMTPException) as error:
        smtp.close()
        yield Finding("mail", FAIL, f"{where}: {type(error).__name__}: {error}", "check the mail server")
        return
    yield _mail_security(where, settings.security, version, offers_tls, " ".join(greeting))
    if mail_to:
        yield _test_send(sender, mail_to)


def _mail_security(where: str, security: str, version: str | None, offers_tls: bool, greeting: str) -> Finding:
    found = f"{where} answers ({greeting})"
    if version:
        return Finding("mail", OK, f"{found}, {security} with {version}")
    if offers_tls:
        return Finding("mail", WARN, f"{found}, plain SMTP although the server offers STARTTLS: reset codes "
                                     "cross the network unencrypted", "set [mail] security = \"starttls\"")
    return Finding("mail", WARN, f"{found}, plain SMTP (the server offers no STARTTLS): reset codes cross the "
                                 "network unencrypted", "use a mail server that offers TLS")


def _test_send(sender: SmtpSender, to: str) -> Finding:
    mail = Mail(to=to, subject="Password portal: test message",
                text="This test message was sent by `flask --app wsgi doctor --mail-to`. Nothing to do.\n")
    try:
        with sender.session() as session:
            session.send(mail)
    except MailError as error:
        return Finding("mail test send", FAIL, f"to {to}: {error}", "read the mail server's log for this message")
    return Finding("mail test send", OK, f"the server accepted a test message to {to}")


# -- base_url against what the proxy sends ---------------------------------------------------

def _base_url(settings: Settings, seen: RequestView | None) -> Finding:
    if seen is None:
        return _probe_base_url(settings)
    base = urlsplit(settings.base_url)
    if seen.scheme != base.scheme:
        return Finding("base_url", FAIL, f"base_url is {base.scheme}:// but requests arrive as {seen.scheme}:// "
                                         f"(X-Forwarded-Proto: {seen.forwarded_proto or 'not sent'}, "
                                         f"trusted_proxies = {settings.trusted_proxies})", _proto_fix(settings, seen))
    if seen.host != base.netloc and seen.host not in settings.hosts:
        return Finding("base_url", FAIL, f"requests arrive for host {seen.host!r}, base_url names {base.netloc!r}",
                       "have the proxy pass the Host header on (nginx: proxy_set_header Host $host), "
                       "or correct base_url")
    return _client_address(settings, seen)


def _proto_fix(settings: Settings, seen: RequestView) -> str:
    if settings.trusted_proxies == 0:
        return "set trusted_proxies to the number of proxies in front of the portal (usually 1)"
    if seen.forwarded_proto is None:
        return "have the proxy send X-Forwarded-Proto (nginx: proxy_set_header X-Forwarded-Proto $scheme)"
    return "serve the portal on the scheme base_url names, or correct base_url"


def _client_address(settings: Settings, seen: RequestView) -> Finding:
    """Rate limits and the audit log key on the client address: a proxy not trusted makes every
    client one address (one person's attempts lock everybody out), one trusted too far lets a
    client choose its own address."""
    hops = len([a for a in (seen.forwarded_for or "").split(",") if a.strip()])
    found = f"{seen.scheme}://{seen.host} as base_url names it; client address {seen.remote_addr}"
    if settings.trusted_proxies == 0 and hops:
        return Finding("base_url", WARN, f"{found}, but a proxy sends X-Forwarded-For and trusted_proxies = 0: "
                                         "every client looks like the proxy to rate limits and the audit log",
                       f"set trusted_proxies = {hops}")
    if hops < settings.trusted_proxies:
        return Finding("base_url", WARN, f"{found}: trusted_proxies = {settings.trusted_proxies} but "
                                         f"X-Forwarded-For has {hops} address(es)",
                       f"set trusted_proxies = {hops}, or have each proxy append to X-Forwarded-For")
    return Finding("base_url", OK, found)


def _probe_base_url(settings: Settings) -> Finding:
    """Without a request, the least the command line can tell: whether base_url reaches a portal."""
    url = settings.base_url.rstrip("/") + "/healthz"
    later = "scheme, host and client address as the portal sees them: run the doctor on the admin page"
    try:
        answer = requests.get(url, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except requests.RequestException as error:
        return Finding("base_url", WARN, f"{url} does not answer from here ({type(error).__name__}); {later}",
                       "check DNS and the proxy, unless this machine cannot reach its public URL")
    if answer.status_code != 200:
        return Finding("base_url", WARN, f"{url} answered HTTP {answer.status_code}; {later}",
                       "have the proxy send base_url's requests to the portal")
    return Finding("base_url", OK, f"{url} answers; {later}")
