"""`flask --app wsgi doctor` against the real servers: one line per check, a fix for what is wrong.

Every failure here is a real one: a provider or mail server nobody listens for, a Redis port with
nothing behind it, a directory certificate from another CA or about to expire (served by a TLS
front in front of the real slapd, as stunnel or a load balancer would), an empty database, an
administrator inside the search base of the real Samba AD.
"""
from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

from devstack import people
from devstack.mailsink import MailSink
from devstack.oidc_provider import OidcProvider
from devstack.samba import BASE_DN, SambaDC, _add_user
from devstack.slapd import Slapd
from portal import clock, create_app
from portal.settings import load_settings
from tests.adapters.directory.directory_contract import other_ca, portal_environ, strong_password
from tests.adapters.directory.test_directory_ad import SambaBackend
from tests.store_support import postgres_url  # noqa: F401 - fixture
from tests.support import MAIL_TOML, SECRET_KEY

PASSWORD = "Doctor.Test.2026!"
USERS = f"CN=Users,{BASE_DN}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def doctor(app: Flask, *args: str) -> tuple[int, list[dict[str, str]]]:
    result = app.test_cli_runner().invoke(args=["doctor", "--json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    return result.exit_code, json.loads(result.output)


def finding(findings: list[dict[str, str]], check: str) -> dict[str, str]:
    found = [f for f in findings if f["check"] == check]
    assert len(found) == 1, (check, findings)
    return found[0]


def fresh_person(slapd: Slapd) -> str:
    login = f"doc{uuid.uuid4().hex[:8]}"
    slapd.add_person(login, PASSWORD)
    return login


@pytest.fixture
def healthy(make_app: Callable[..., Flask], oidc_provider: OidcProvider, mailbox: MailSink,
            slapd: Slapd) -> Callable[..., Flask]:
    """The test portal with mail, Redis (its own key prefix) and a test account; `environ` varies it."""
    login = fresh_person(slapd)

    def build(environ: dict[str, str] | None = None) -> Flask:
        return make_app(MAIL_TOML, environ={
            "PORTAL_RATE_LIMITS__STORAGE_URI": "redis://127.0.0.1:6379/0",
            "PORTAL_RATE_LIMITS__KEY_PREFIX": "doctortest",
            "PORTAL_DIRECTORY__DOCTOR_TEST_ACCOUNT": login, **(environ or {})})
    return build


def test_a_healthy_deployment_passes_every_check(healthy: Callable[..., Flask]) -> None:
    code, findings = doctor(healthy())
    assert code == 0, findings
    statuses = {f["check"]: f["status"] for f in findings}
    for check in ("migrations", "redis", "directory reachability", "directory bind", "directory test account",
                  "directory unlock right", "directory reset right", "directory deny list",
                  "provider discovery", "provider keys", "clock skew"):
        assert statuses[check] == "ok", finding(findings, check)
    assert finding(findings, "mail")["status"] == "warn"  # the sink speaks plain SMTP
    assert "plain SMTP" in finding(findings, "mail")["detail"]
    assert finding(findings, "directory TLS")["fix"]  # the test slapd is plain LDAP: says how to encrypt
    assert finding(findings, "base_url")["status"] == "warn"  # nothing serves base_url in tests
    assert "admin page" in finding(findings, "base_url")["detail"]


def test_the_lines_read_status_check_detail_and_fix_and_hide_every_secret(healthy: Callable[..., Flask]) -> None:
    result = healthy().test_cli_runner().invoke(args=["doctor"])
    lines = result.output.splitlines()
    assert any(line.startswith("ok    migrations: database at ") for line in lines), result.output
    assert any(line.startswith("warn  directory TLS: plain LDAP") and " — fix: use ldaps://" in line
               for line in lines), result.output
    for secret in ("portal-dev-secret", people.SERVICE.password, SECRET_KEY):
        assert secret not in result.output


def test_without_a_test_account_the_rights_are_not_checked_and_it_says_which_setting(
        make_app: Callable[..., Flask], oidc_provider: OidcProvider) -> None:
    code, findings = doctor(make_app())
    rights = finding(findings, "directory rights")
    assert rights["status"] == "warn" and "doctor_test_account" in rights["fix"]
    assert code == 0


def test_a_test_send_goes_out_only_when_asked(healthy: Callable[..., Flask], mailbox: MailSink) -> None:
    app = healthy()
    doctor(app)
    assert mailbox.messages() == []
    code, findings = doctor(app, "--mail-to", "it@example.test")
    assert code == 0 and finding(findings, "mail test send")["status"] == "ok"
    message = mailbox.wait_for(lambda m: m["To"] == "it@example.test")
    assert "test message" in message["Subject"]


def test_a_provider_that_is_down_fails_with_the_fix(healthy: Callable[..., Flask]) -> None:
    code, findings = doctor(healthy({"PORTAL_OIDC__ISSUER": f"http://127.0.0.1:{free_port()}"}))
    assert code == 1
    down = finding(findings, "provider discovery")
    assert down["status"] == "fail" and "issuer" in down["fix"]
    assert not [f for f in findings if f["check"] in ("provider keys", "clock skew")]


def test_pinned_algorithms_the_provider_has_no_key_for_fail(healthy: Callable[..., Flask]) -> None:
    code, findings = doctor(healthy({"PORTAL_OIDC__ID_TOKEN_ALGORITHMS": '["ES256"]'}))
    keys = finding(findings, "provider keys")
    assert code == 1 and keys["status"] == "fail" and "id_token_algorithms" in keys["fix"]


def test_smtp_that_is_down_fails_and_sends_nothing(make_app: Callable[..., Flask], oidc_provider: OidcProvider,
                                                   mailbox: MailSink) -> None:
    app = make_app(MAIL_TOML.replace(f"port = {mailbox.port}", f"port = {free_port()}"))
    code, findings = doctor(app, "--mail-to", "it@example.test")
    mail = finding(findings, "mail")
    assert code == 1 and mail["status"] == "fail" and "ConnectionRefusedError" in mail["detail"]
    assert not [f for f in findings if f["check"] == "mail test send"]


def test_redis_unreachable_fails(healthy: Callable[..., Flask]) -> None:
    code, findings = doctor(healthy({"PORTAL_RATE_LIMITS__STORAGE_URI": f"redis://:pw-never-shown@127.0.0.1:{free_port()}/0"}))
    redis = finding(findings, "redis")
    assert code == 1 and redis["status"] == "fail" and "storage_uri" in redis["fix"]
    assert "pw-never-shown" not in json.dumps(findings)


def test_an_unmigrated_store_fails_with_the_upgrade_command(
        settings_file: Callable[[str], Path], oidc_provider: OidcProvider) -> None:
    app = create_app(load_settings(settings_file(""), {}))  # not migrated
    code, findings = doctor(app)
    migrations = finding(findings, "migrations")
    assert code == 1 and migrations["status"] == "fail" and "store upgrade" in migrations["fix"]
    assert "no revision" in migrations["detail"]


# -- directory TLS ---------------------------------------------------------------------------

def start_tls_environ(slapd: Slapd, ca_file: str) -> dict[str, str]:
    return {"PORTAL_DIRECTORY__START_TLS": "true", "PORTAL_DIRECTORY__ALLOW_PLAINTEXT": "false",
            "PORTAL_DIRECTORY__CA_FILE": ca_file, "PORTAL_DIRECTORY__TLS_SERVER_NAME": slapd.tls_name}


def test_directory_tls_names_the_certificate_and_its_expiry(healthy: Callable[..., Flask], slapd: Slapd) -> None:
    code, findings = doctor(healthy(start_tls_environ(slapd, str(slapd.ca_file))))
    tls = finding(findings, "directory TLS")
    assert tls["status"] == "ok" and "StartTLS" in tls["detail"] and "issued by CN=Password portal dev CA" in tls["detail"]
    assert code == 0, findings


def test_a_certificate_from_another_ca_fails_naming_the_issuer(healthy: Callable[..., Flask], slapd: Slapd,
                                                               tmp_path: Path) -> None:
    code, findings = doctor(healthy(start_tls_environ(slapd, other_ca(tmp_path))))
    tls = finding(findings, "directory TLS")
    assert code == 1 and tls["status"] == "fail" and "not trusted by ca_file" in tls["detail"]
    assert "CN=Password portal dev CA" in tls["fix"]
    assert not [f for f in findings if f["check"] == "directory bind"]  # later steps need TLS


def issue_certificate(folder: Path, valid_days: int) -> tuple[Path, Path, Path]:
    """A fresh CA and a certificate for localhost it signed, valid `valid_days` from now: (CA, cert, key)."""
    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Front CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=90))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=valid_days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "cert.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_file, cert_file, key_file


class TlsFront:
    """LDAPS in front of the real slapd with a certificate of our choosing (as stunnel would)."""

    def __init__(self, folder: Path, upstream: tuple[str, int], valid_days: int) -> None:
        self.ca_file, cert_file, key_file = issue_certificate(folder, valid_days)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert_file, key_file)
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except OSError:
            raw.close()
            return
        server = socket.create_connection(self.upstream)
        for source, target in ((client, server), (server, client)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                end.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def tls_front(tmp_path: Path, slapd: Slapd) -> Iterator[Callable[[int], TlsFront]]:
    fronts: list[TlsFront] = []

    def start(valid_days: int) -> TlsFront:
        fronts.append(TlsFront(tmp_path, ("127.0.0.1", slapd.port), valid_days))
        return fronts[-1]
    yield start
    for front in fronts:
        front.close()


def test_a_certificate_that_expires_soon_warns_with_the_days_left(
        healthy: Callable[..., Flask], tls_front: Callable[[int], TlsFront]) -> None:
    front = tls_front(5)
    code, findings = doctor(healthy({"PORTAL_DIRECTORY__URL": f"ldaps://localhost:{front.port}",
                                     "PORTAL_DIRECTORY__ALLOW_PLAINTEXT": "false",
                                     "PORTAL_DIRECTORY__CA_FILE": str(front.ca_file)}))
    tls = finding(findings, "directory TLS")
    assert tls["status"] == "warn" and "LDAPS" in tls["detail"] and "expires in 4 days" in tls["detail"]
    assert "renew" in tls["fix"]
    assert finding(findings, "directory bind")["status"] == "ok"  # the connection itself works
    assert code == 0, findings


def test_a_certificate_for_another_name_fails_with_the_names_it_has(
        healthy: Callable[..., Flask], tls_front: Callable[[int], TlsFront]) -> None:
    front = tls_front(365)
    code, findings = doctor(healthy({"PORTAL_DIRECTORY__URL": f"ldaps://127.0.0.1:{front.port}",
                                     "PORTAL_DIRECTORY__ALLOW_PLAINTEXT": "false",
                                     "PORTAL_DIRECTORY__CA_FILE": str(front.ca_file)}))
    tls = finding(findings, "directory TLS")
    assert code == 1 and "does not name '127.0.0.1'" in tls["detail"], tls
    assert "set tls_server_name to one of localhost" in tls["fix"]


# -- Active Directory: rights and protected accounts on the real Samba ------------------------

@pytest.fixture
def samba_app(make_app: Callable[..., Flask], oidc_provider: OidcProvider, samba: SambaDC) -> Callable[..., Flask]:
    def build(environ: dict[str, str]) -> Flask:
        return make_app(environ=portal_environ(SambaBackend(samba).settings) | environ)
    return build


def test_samba_rights_are_proved_without_changing_the_test_account(
        samba_app: Callable[..., Flask], samba: SambaDC) -> None:
    backend = SambaBackend(samba)
    account = backend.add_person(strong_password())
    code, findings = doctor(samba_app({"PORTAL_DIRECTORY__DOCTOR_TEST_ACCOUNT": account.login}))
    assert finding(findings, "directory unlock right")["status"] == "ok", findings
    reset = finding(findings, "directory reset right")
    assert reset["status"] == "ok" and "refused by it" in reset["detail"]
    assert samba.binds(account.dn, account.password)  # unchanged
    assert code == 0, findings


def test_a_protected_account_as_test_account_fails(samba_app: Callable[..., Flask], samba: SambaDC) -> None:
    backend = SambaBackend(samba)
    admin = backend.add_person(strong_password())
    samba.modify(admin.dn, {"adminCount": "1"})
    code, findings = doctor(samba_app({"PORTAL_DIRECTORY__DOCTOR_TEST_ACCOUNT": admin.login}))
    test_account = finding(findings, "directory test account")
    assert code == 1 and test_account["status"] == "fail" and "ordinary account" in test_account["fix"]


def test_administrators_in_scope_are_listed_with_why_reset_refuses_them(
        samba_app: Callable[..., Flask], samba: SambaDC) -> None:
    backend = SambaBackend(samba)
    admin = backend.add_person(strong_password())
    samba.modify(admin.dn, {"adminCount": "1"})
    _, findings = doctor(samba_app({"PORTAL_DIRECTORY__PROTECTED_GROUPS": f'["{people.PROTECTED_GROUP}"]'}))
    assert "frank" in finding(findings, "directory protected group")["detail"]
    listed = finding(findings, "directory protected accounts")
    assert listed["status"] == "warn" and admin.login in listed["detail"] and "adminCount=1" in listed["detail"]
    assert "clear" in listed["fix"]
    assert "Administrator" in finding(findings, "directory deny list")["detail"]


def test_the_openldap_write_probe_changes_nothing(healthy: Callable[..., Flask], slapd: Slapd) -> None:
    login = fresh_person(slapd)
    code, findings = doctor(healthy({"PORTAL_DIRECTORY__DOCTOR_TEST_ACCOUNT": login}))
    assert finding(findings, "directory reset right")["status"] == "ok", findings
    assert slapd.binds(slapd.person_dn(login), PASSWORD)
    assert code == 0


def test_samba_rights_fail_where_nothing_was_delegated(samba_app: Callable[..., Flask], samba: SambaDC) -> None:
    """The service account's rights are delegated on the people OU only: CN=Users has none of them."""
    login = f"doc{uuid.uuid4().hex[:8]}"
    with samba.connect() as conn:
        _add_user(conn, f"CN={login},{USERS}", login, strong_password(), {"sn": login})
    code, findings = doctor(samba_app({"PORTAL_DIRECTORY__DOCTOR_TEST_ACCOUNT": login,
                                       "PORTAL_DIRECTORY__EXTRA_BASE_DNS": f'["{USERS}"]'}))
    unlock, reset = finding(findings, "directory unlock right"), finding(findings, "directory reset right")
    assert code == 1 and unlock["status"] == reset["status"] == "fail", findings
    assert "lockoutTime" in unlock["fix"] and "Reset Password" in reset["fix"]


def test_members_of_a_protected_group_are_listed_with_the_setting_that_refuses_them(
        healthy: Callable[..., Flask]) -> None:
    _, findings = doctor(healthy({"PORTAL_DIRECTORY__PROTECTED_GROUPS": f'["{people.ADMIN_GROUP}"]'}))
    group = finding(findings, "directory protected group")
    # erin, and whoever other tests on this directory added to the group
    assert group["status"] == "ok" and group["detail"].startswith(f"{people.ADMIN_GROUP}: ")
    assert "erin" in group["detail"] and group["detail"].endswith("reset refuses them (protected_groups)")
    assert "protected_groups" in group["detail"]


def test_a_clock_off_by_more_than_the_allowed_skew_fails(healthy: Callable[..., Flask]) -> None:
    app = healthy()
    with clock.travel(timedelta(minutes=5)):
        code, findings = doctor(app)
    skew = finding(findings, "clock skew")
    assert code == 1 and skew["status"] == "fail" and re.search(r"\b30[01] s behind ours", skew["detail"])
    assert "NTP" in skew["fix"]


def test_starttls_required_by_the_settings_but_not_offered_fails(make_app: Callable[..., Flask],
                                                                 oidc_provider: OidcProvider, mailbox: MailSink) -> None:
    code, findings = doctor(make_app(MAIL_TOML.replace('security = "none"', 'security = "starttls"')))
    mail = finding(findings, "mail")
    assert code == 1 and mail["status"] == "fail" and "STARTTLS" in mail["detail"], mail


def test_smtp_with_starttls_names_the_tls_version_and_a_test_send_goes_through_it(
        make_app: Callable[..., Flask], oidc_provider: OidcProvider, tmp_path: Path) -> None:
    ca_file, cert_file, key_file = issue_certificate(tmp_path, 365)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    received: list[str] = []

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
            received.extend(envelope.rcpt_tos)
            return "250 OK"
    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    try:
        mail = (f'[mail]\nhost = "localhost"\nport = {port}\nsecurity = "starttls"\nca_file = "{ca_file}"\n'
                'from_address = "passwords@example.test"\n')
        code, findings = doctor(make_app(mail), "--mail-to", "it@example.test")
    finally:
        controller.stop()
    assert finding(findings, "mail")["status"] == "ok" and "starttls with TLSv1" in finding(findings, "mail")["detail"]
    assert finding(findings, "mail test send")["status"] == "ok" and received == ["it@example.test"]
    assert code == 0, findings


def test_on_postgresql_the_schema_is_judged_before_and_after_the_upgrade(
        settings_file: Callable[[str], Path], oidc_provider: OidcProvider, postgres_url: str) -> None:
    app = create_app(load_settings(settings_file(""), {"PORTAL_DATABASE__URL": postgres_url}))
    _, findings = doctor(app)
    assert finding(findings, "migrations")["status"] == "fail"
    assert app.test_cli_runner().invoke(args=["store", "upgrade"]).exit_code == 0
    _, findings = doctor(app)
    assert finding(findings, "migrations")["status"] == "ok"


def test_a_database_that_does_not_answer_fails_without_showing_its_url(
        settings_file: Callable[[str], Path], oidc_provider: OidcProvider) -> None:
    url = f"postgresql://portal:db-secret@127.0.0.1:{free_port()}/portal"
    app = create_app(load_settings(settings_file(""), {"PORTAL_DATABASE__URL": url}))
    code, findings = doctor(app)
    database = finding(findings, "database")
    assert code == 1 and database["status"] == "fail" and "[database] url" in database["fix"]
    assert "db-secret" not in json.dumps(findings)
