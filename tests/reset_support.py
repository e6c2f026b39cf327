"""What the reset and change tests share: a portal against slapd OR Samba AD, fresh people, a browser.

Every test adds its own people to the real directory (the demo people's passwords must keep
working for everyone else's tests) and drives the portal like a browser: GET a page, POST its
form with the page's CSRF token, follow the answer.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import ldap3
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devstack import people
from devstack.mailsink import MailSink
from devstack.samba import MIN_AGE_GROUP, SambaDC
from devstack.slapd import MIN_AGE_POLICY_DN, Slapd
from portal.adapters.directory import DirectoryUser, directory_for
from portal.services.proofs import security_info
from portal.services.proofs.methods import questions as question_service
from portal.services.proofs.methods import totp
from portal.services.security.crypto import Sealer
from portal.store.audit import AuditEvent
from tests.conftest import provider_callback
from tests.registration_support import DIRECTORY_ENVIRON, SmsGatewayServer, code_in, mail_body, registration_toml
from tests.support import CSRF_FIELD, SECRET_KEY

PILOT = people.PILOT_GROUP
ADMINS = people.ADMIN_GROUP
ANSWERS = {"first-pet": "Rex the dog", "first-car": "Volvo 240", "childhood-street": "Elm Street"}
NEW_PASSWORD = "Marble kettle, orbit 42 fennel"
HELPDESK_NOTICE = "it-security@example.test"

RESET_TABLES = f"""
[reset]
min_response_ms = 0
identify_per_ip_per_hour = 1000
verify_per_ip_per_hour = 1000

[reset.challenge]
enabled = false  # tests walk one address through many accounts; tests/blueprints/test_reset_challenge.py turns it on

[passwords]
min_length = 12
organization_terms = ["Contoso"]

[notifications]
admin_emails = ["{HELPDESK_NOTICE}"]
"""


@dataclass(frozen=True)
class Person:
    login: str
    dn: str
    password: str
    alternate_email: str
    mobile: str


class Stack:
    """One real directory (slapd or Samba AD) and how the portal is pointed at it.

    Both servers' devstack helpers add people, lock, disable and stop the same way; the stacks
    differ in the portal's settings and in how a test binds outside the portal.
    """

    name = ""
    kind = ""  # the portal's directory kind, as tests/lookalike_names.py names it
    alternate_email_attribute = ""

    def __init__(self, server: Slapd | SambaDC) -> None:
        self.server = server

    def environ(self) -> dict[str, str]:
        raise NotImplementedError

    def connection(self, dn: str, password: str | bytes) -> ldap3.Connection:
        raise NotImplementedError

    def add_person(self, *, groups: tuple[str, ...] = (PILOT,), password: str | None = None,
                   with_methods: bool = True, min_age: bool = False, login: str | None = None,
                   **extra: str) -> Person:
        """A fresh person (`login`, else a fresh one); `with_methods` gives them an alternate email
        and a mobile in the directory, `min_age` a password policy with a minimum password age;
        `extra` sets more attributes."""
        login = login or f"r{uuid.uuid4().hex[:10]}"
        password = password or f"Old.{uuid.uuid4().hex[:8]}.Pw1!"
        mailbox = login if login.isascii() else f"r{uuid.uuid4().hex[:10]}"  # OpenLDAP: ASCII mail only
        alternate, mobile = f"{mailbox}.home@mail.example", f"+1201555{uuid.uuid4().int % 10000:04d}"
        methods = {self.alternate_email_attribute: alternate, "mobile": mobile} if with_methods else {}
        dn = self._add(login, password, groups, {**methods, **extra}, min_age)
        return Person(login, dn, password, alternate, mobile)

    def _add(self, login: str, password: str, groups: tuple[str, ...], extra: dict[str, str],
             min_age: bool) -> str:
        raise NotImplementedError

    def lock(self, person: Person) -> None:
        self.server.lock(person.dn)

    def disable(self, person: Person) -> None:
        self.server.disable(person.dn)

    def stopped(self) -> AbstractContextManager[None]:
        return self.server.stopped()

    def binds(self, person: Person, password: str) -> bool:
        """A real bind as the person, outside the portal, with the password's UTF-8 bytes as typed
        (given a str, ldap3 would apply SASLprep to it first)."""
        try:
            with self.connection(person.dn, password.encode("utf-8")):
                return True
        except ldap3.core.exceptions.LDAPException:
            return False


class SlapdStack(Stack):
    name = "slapd"
    kind = "openldap"
    alternate_email_attribute = "mailLocalAddress"
    server: Slapd

    def environ(self) -> dict[str, str]:
        return dict(DIRECTORY_ENVIRON)

    def _add(self, login: str, password: str, groups: tuple[str, ...], extra: dict[str, str],
             min_age: bool) -> str:
        return self.server.add_person(login, password, groups=groups,
                                      policy_dn=MIN_AGE_POLICY_DN if min_age else None, **extra)

    def connection(self, dn: str, password: str | bytes) -> ldap3.Connection:
        return ldap3.Connection(ldap3.Server(self.server.url, connect_timeout=5), dn, password,
                                auto_bind=True, raise_exceptions=True)


class SambaStack(Stack):
    name = "samba"
    kind = "active_directory"
    alternate_email_attribute = "otherMailbox"
    server: SambaDC

    def environ(self) -> dict[str, str]:
        s = self.server
        return {"PORTAL_DIRECTORY__KIND": "active_directory", "PORTAL_DIRECTORY__URL": s.url,
                "PORTAL_DIRECTORY__ALLOW_PLAINTEXT": "false", "PORTAL_DIRECTORY__CA_FILE": str(s.ca_file),
                "PORTAL_DIRECTORY__TLS_SERVER_NAME": s.tls_name, "PORTAL_DIRECTORY__BIND_DN": s.service_dn,
                "PORTAL_DIRECTORY__BIND_PASSWORD": s.service_password, "PORTAL_DIRECTORY__BASE_DN": s.people_dn,
                "PORTAL_DIRECTORY__ALTERNATE_EMAIL_ATTRIBUTE": self.alternate_email_attribute}

    def _add(self, login: str, password: str, groups: tuple[str, ...], extra: dict[str, str],
             min_age: bool) -> str:
        return self.server.add_person(login, password, groups=(*groups, MIN_AGE_GROUP) if min_age else groups,
                                      **extra)

    def connection(self, dn: str, password: str | bytes) -> ldap3.Connection:
        server = ldap3.Server(self.server.url, use_ssl=True, tls=self.server.tls(), connect_timeout=5)
        return ldap3.Connection(server, dn, password, auto_bind=True, raise_exceptions=True)


@pytest.fixture(params=["slapd", "samba"])
def stack(request: pytest.FixtureRequest) -> Stack:
    """Each test that uses it runs once against slapd and once against Samba AD."""
    if request.param == "slapd":
        return SlapdStack(request.getfixturevalue("slapd"))
    return SambaStack(request.getfixturevalue("samba"))


@pytest.fixture
def reset_app(make_app: Callable[..., Flask], oidc_provider: Any, mailbox: MailSink, sms_gateway: SmsGatewayServer,
              stack: Stack) -> Callable[..., Flask]:
    """Build a portal on `stack` with reset settings; `environ` overrides single keys, `tables` adds TOML."""
    def build(environ: dict[str, str] | None = None, tables: str = "") -> Flask:
        env = {"PORTAL_ROLLOUT__RESET": "group", "PORTAL_ROLLOUT__GROUPS": f'["{PILOT}"]',
               "PORTAL_REGISTRATION__REQUIRE_REGISTRATION": "false", **stack.environ(), **(environ or {})}
        return make_app(registration_toml(sms_gateway.url, tables=RESET_TABLES + tables), environ=env)
    return build


@pytest.fixture
def app(reset_app: Callable[..., Flask]) -> Flask:
    """Overrides conftest's `app`: the default reset portal for this test's stack."""
    return reset_app()


class Browser:
    """A test client used like a browser: pages, their forms, and the answers."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.last: Any = None

    def get(self, path: str) -> Any:
        self.last = self.client.get(path)
        return self.last

    def submit(self, path: str, data: dict[str, str] | None = None, *, form_page: str | None = None) -> Any:
        """POST with the CSRF token of `form_page` (default: the session's token from /reset)."""
        page = self.client.get(form_page or "/reset/")
        match = CSRF_FIELD.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {form_page or '/reset/'}"
        self.last = self.client.post(path, data={"csrf_token": match.group(1), **(data or {})})
        return self.last

    def identify(self, name: str) -> Any:
        return self.submit("/reset/", {"identifier": name})

    def choose(self, method: str) -> Any:
        return self.submit("/reset/verify", {"method": method})

    def enter_code(self, code: str) -> Any:
        return self.submit("/reset/code", {"code": code})

    def answer(self, answers: dict[str, str]) -> Any:
        asked = re.findall(r'name="answer-([a-z0-9-]+)"', self.get("/reset/questions").get_data(as_text=True))
        return self.submit("/reset/questions", {f"answer-{key}": answers.get(key, "wrong") for key in asked})

    def set_password(self, password: str, again: str | None = None) -> Any:
        return self.submit("/reset/password", {"new_password": password,
                                                "new_password_again": password if again is None else again})

    def signed_in_as(self) -> str | None:
        """Whom the portal takes this browser for, as /change says it."""
        found = re.search(r"You are changing the password of ([^.<]+)\.", self.get("/change/").get_data(as_text=True))
        return found.group(1) if found else None

    @property
    def text(self) -> str:
        return self.last.get_data(as_text=True)


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


def new_browser(app: Flask) -> Browser:
    return Browser(app.test_client())


def change(browser: Browser, current: str, new: str = NEW_PASSWORD, login: str | None = None) -> Any:
    """/change with the current password (signed out: also the login name)."""
    data = {"current_password": current, "new_password": new, "new_password_again": new}
    if login is not None:
        data["login"] = login
    return browser.submit("/change/", data, form_page="/change/")


def known_to_the_provider(stack: Stack, person: Person, slapd: Slapd) -> None:
    """The provider checks passwords against slapd, so a Samba person gets a twin there (once)."""
    if stack.name != "slapd":
        slapd.add_person(person.login, person.password)


def signed_in(browser: Browser, stack: Stack, person: Person, slapd: Slapd) -> None:
    """Sign `browser` in as `person` at the real provider (the first of that person's sign-ins)."""
    known_to_the_provider(stack, person, slapd)
    sign_in_again(browser, person)


def sign_in_again(browser: Browser, person: Person) -> None:
    """Another sign-in of a person the provider knows already (another browser)."""
    answer = browser.client.get(provider_callback(browser.client, person.login, person.password))
    assert answer.status_code == 302, answer.get_data(as_text=True)


def user_of(app: Flask, person: Person) -> DirectoryUser:
    with app.test_request_context():
        user = directory_for(app).find_user(person.login)
    assert user is not None
    return user


def register_totp(app: Flask, person: Person) -> str:
    """Enrol an authenticator app for `person` as /register would; returns the secret."""
    secret = totp.new_secret()
    user = user_of(app, person)
    with app.test_request_context(), app.extensions["store"].transaction() as db:
        security_info.save_method(db, user, security_info.TOTP,
                                  sealed_secret=Sealer(SECRET_KEY, totp.SEAL_PURPOSE).seal(secret))
    return secret


def register_questions(app: Flask, person: Person, answers: dict[str, str] = ANSWERS) -> None:
    user = user_of(app, person)
    with app.test_request_context(), app.extensions["store"].transaction() as db:
        security_info.save_answers(db, user, {key: question_service.hash_answer(question_service.normalize(value))
                                              for key, value in answers.items()})


def code_sent_to(mailbox: MailSink, address: str, count: int = 1) -> str:
    """The code in the `count`th code mail to `address` (waiting for it to arrive)."""
    def codes() -> list[EmailMessage]:
        return [m for m in mailbox.messages() if m["To"] == address and "verification code" in m["Subject"]]
    mailbox.wait_for(lambda _m: len(codes()) >= count)
    return code_in(mail_body(codes()[count - 1]))


def code_texted_to(gateway: SmsGatewayServer, number: str, count: int = 1) -> str:
    gateway.wait_for(count)
    texts = [r.json()["text"] for r in gateway.received if r.json()["to"] == number]
    assert texts, f"no SMS to {number}"
    return code_in(texts[-1])


def mails_to(mailbox: MailSink, address: str, subject_part: str, timeout: float = 5.0) -> EmailMessage:
    return mailbox.wait_for(lambda m: m["To"] == address and subject_part in m["Subject"], timeout=timeout)


def audit_events(app: Flask, prefix: str) -> list[AuditEvent]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.event.startswith(prefix))
                               .order_by(AuditEvent.id)))


def verified_by_email(browser: Browser, mailbox: MailSink, person: Person, nth_code: int = 1) -> Any:
    """Walk a one-method reset up to the new-password page, with the code mailed to the person."""
    browser.identify(person.login)
    browser.choose("email")
    return browser.enter_code(code_sent_to(mailbox, person.alternate_email, nth_code))
