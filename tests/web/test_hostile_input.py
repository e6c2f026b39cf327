"""Hostile input on every route and form field: an answer below 500, and no account told apart.

The walk reads the app's url_map (every rule and method except static files), finds each route's
fields in the forms its pages render (for a signed-out visitor, a signed-in person and an
administrator) and in the request keys its blueprint reads, and sends each field, alone and all
fields together, every value of a hostile corpus: other scripts' digits, control and format
characters, an escaped lone surrogate and invalid UTF-8 as raw bytes, 100,000-character values,
repeated keys, huge and negative numbers. Path parameters get the same treatment. Every request
carries a valid CSRF token, so it reaches the view.

Then the reset and change flows are walked for a known and an unknown account with the same corpus;
where the flow promises it, their answers must be the same, status and page (CSRF token aside).

Between two requests the harness forgets what the portal counted (guards, rate limits, code tries):
counting is pinned by its own tests, and here every request must reach the code that reads the field.
"""
from __future__ import annotations

import ast
import functools
import inspect
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, update
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

import portal
from devstack import people
from devstack.slapd import SERVICE_POLICY_DN, Slapd
from portal import create_app
from portal.extensions import limiter
from portal.settings import load_settings
from portal.store import get_store
from portal.store.flows import AccountGuard
from portal.store.migrate import upgrade
from portal.store.security_info import OneTimeCode
from tests.conftest import PortalClient, provider_callback
from tests.registration_support import DIRECTORY_ENVIRON, SmsGatewayServer, mid_time_step, registration_toml
from tests.reset_support import RESET_TABLES, Browser, Person, register_questions, register_totp
from tests.support import BASE_URL, CSRF_FIELD, settings_toml


@dataclass(frozen=True)
class Raw:
    """A value sent as these already-escaped bytes (what no well-behaved browser would send)."""

    escaped: str


@dataclass(frozen=True)
class Repeated:
    """The same key several times: an array where one value is expected."""

    values: tuple[str, ...]


Value = str | Raw | Repeated

CORPUS: dict[str, Value] = {
    "arabic-indic digits": "١٢٣٤٥٦",  # str.isdigit() and int() take them
    "fullwidth digits": "１２３４５６",  # NFKC makes them ASCII
    "superscript digits": "¹²³⁴⁵⁶",  # str.isdigit() takes them, int() does not
    "NUL": "Pass\x00word 123456",
    "BEL": "\x07123456",
    "NEL (U+0085)": "12\x853456",
    "noncharacter U+FFFE": "\ufffe123456",
    "zero-width space": "123\u200b456",
    "right-to-left override": "\u202e654321",
    "no-break space": "123\u00a0456",
    "escaped lone surrogate, invalid UTF-8": Raw("%ED%A0%80%FF%FE%C0%AF"),
    "100,000 characters": "x" * 100_000,
    "5,000 arabic-indic digits": "٣" * 5_000,  # more than int() takes (4,300), all of them str.isdigit()
    "40 digits": "9" * 40,
    "negative number": "-1",
    "empty": "",
    "repeated key": Repeated(("123456", "654321")),
}
PATH_VALUES = ("9" * 40, "-1", "١٢٣", "%ED%A0%80", "x" * 2000)
ALL_FIELDS = "*"  # the case where every field of the route gets the value at once
# the highest limits the settings allow; counts are forgotten more often than the smallest is reached
LIMITS = {"PORTAL_RESET__MAX_FAILED_VERIFICATIONS": "50", "PORTAL_CHANGE__MAX_WRONG_PASSWORDS": "20",
          "PORTAL_CODES__MAX_ATTEMPTS": "10"}
FORGET_EVERY = 5
LAST_ENDPOINTS = ("register.remove", "auth.signout")  # they end what later requests rely on
READS = re.compile(r"""(form|args)\.get(?:list)?\(\s*["']([\w-]+)["']""")  # (where, key)
CALLS = re.compile(r"\b(\w+)\(")
TOKEN = re.compile(r'(name="csrf_token" value=")[^"]+"')
QUESTION_LABEL = re.compile(r'<label for="answer-[\w-]+">[^<]*</label>')
ANSWER_KEY = re.compile(r"answer-[\w-]+")
CSRF_EXPIRED = "This page has expired"
UNKNOWN_LOGIN = f"nobody-{uuid.uuid4().hex[:8]}"
NEW_PASSWORD = "Marble kettle, orbit 42 fennel"


def encode(pairs: list[tuple[str, Value]]) -> str:
    """An application/x-www-form-urlencoded body or query string, raw values left as they are."""
    parts = []
    for key, value in pairs:
        values = value.values if isinstance(value, Repeated) else (value,)
        for one in values:
            text = one.escaped if isinstance(one, Raw) else quote(one, safe="")
            parts.append(f"{quote(key, safe='')}={text}")
    return "&".join(parts)


# -- the app and the people, once for the module ---------------------------------------------------

@pytest.fixture(scope="module")
def sms() -> Iterator[SmsGatewayServer]:
    server = SmsGatewayServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, slapd: Slapd, oidc_provider: Any, mail_sink: Any,
        sms: SmsGatewayServer) -> Flask:
    folder = tmp_path_factory.mktemp("hostile")
    tables = RESET_TABLES + '\n[admin]\ngroups = ["Portal-Admins"]\n'
    extra = registration_toml(sms.url, top="max_content_length = 4194304", tables=tables,
                              require_registration="false")
    path = folder / "portal.toml"
    path.write_text(settings_toml(f"sqlite:///{folder}/portal.db", extra))
    app = create_app(load_settings(path, {**DIRECTORY_ENVIRON, **LIMITS}))
    app.test_client_class = PortalClient
    with app.app_context():
        upgrade(get_store())
    return app


@pytest.fixture(scope="module")
def person(app: Flask, slapd: Slapd) -> Person:
    """A known account with every method: directory email and phone, an app, security questions.

    Its directory policy has no lockout, so the walk's wrong passwords never lock it."""
    login = f"h{uuid.uuid4().hex[:10]}"
    password = f"Old.{uuid.uuid4().hex[:8]}.Pw1!"
    alternate, mobile = f"{login}.home@mail.example", f"+1201555{uuid.uuid4().int % 10000:04d}"
    dn = slapd.add_person(login, password, groups=(people.PILOT_GROUP,), policy_dn=SERVICE_POLICY_DN,
                          mailLocalAddress=alternate, mobile=mobile)
    found = Person(login, dn, password, alternate, mobile)
    register_totp(app, found)
    register_questions(app, found)
    return found


def refused_as_expired(response: Any) -> bool:
    """The CSRF check's page: the harness's fault (a stale token), and the view never ran."""
    return response.status_code == 400 and CSRF_EXPIRED in response.get_data(as_text=True)


def forget_counts(app: Flask) -> None:
    """Clear what limits count, so the next requests reach their view (see the module docstring)."""
    limiter.reset()
    with app.app_context(), get_store().transaction() as db:
        db.execute(delete(AccountGuard))
        db.execute(update(OneTimeCode).values(attempts=0))


def signed_in(app: Flask, username: str, password: str) -> FlaskClient:
    client = app.test_client()
    assert client.get(provider_callback(client, username, password)).status_code == 302
    return client


# -- finding routes and fields ---------------------------------------------------------------------

class Forms(HTMLParser):
    """Every form of a page: its action, method and field names with their default values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append((found.get("action", ""), found.get("method", "get").upper(), {}))
        elif tag in ("input", "select", "textarea", "button") and self.forms and found.get("name"):
            fields = self.forms[-1][2]
            if found["name"] not in fields or "checked" in found:
                fields[found["name"]] = found.get("value", "")

    def handle_data(self, data: str) -> None:
        pass


@dataclass
class Route:
    rule: Rule
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> a harmless value

    @property
    def endpoint(self) -> str:
        return self.rule.endpoint


def sample_values(rule: Rule) -> Iterator[dict[str, str]]:
    """Harmless values for the rule's path parameters: every choice of an `any`, an id nobody has."""
    choices: dict[str, tuple[str, ...]] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            choices[name] = tuple(converter.items)
        elif isinstance(converter, IntegerConverter):
            choices[name] = ("999999",)
        else:
            choices[name] = ("coverage",)
    combos: list[dict[str, str]] = [{}]
    for name, options in choices.items():
        combos = [{**combo, name: option} for combo in combos for option in options]
    yield from combos


def url(rule: Rule, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule.rule)


@functools.cache
def request_readers() -> dict[str, set[tuple[str, str]]]:
    """Functions outside the blueprints that read request keys themselves (the OIDC callback's
    `complete` reads `state` and `code`), by name: what a view gets by calling them."""
    found: dict[str, set[tuple[str, str]]] = {}
    package = Path(portal.__file__).parent
    for path in set(package.rglob("*.py")) - set((package / "blueprints").rglob("*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                text = ast.get_source_segment(source, node) or ""
                if "request." in text and READS.search(text):
                    found.setdefault(node.name, set()).update(READS.findall(text))
    return found


def reads(app: Flask, endpoint: str) -> set[tuple[str, str]]:
    """The request keys the view reads, ("form", "x") or ("args", "x"): in its own source, in
    the functions of its module that it calls (and those call), and in any portal function it
    calls that reads the request itself."""
    view = inspect.unwrap(app.view_functions[endpoint])
    module = inspect.getmodule(view)
    functions = {name: inspect.unwrap(f) for name, f in vars(module).items()
                 if inspect.isfunction(f) and inspect.unwrap(f).__module__ == view.__module__}
    names: set[tuple[str, str]] = set()
    seen: set[str] = set()
    todo = [view.__name__]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        source = inspect.getsource(functions[name])
        names |= set(READS.findall(source))
        names |= {key for called in CALLS.findall(source) for key in request_readers().get(called, ())}
        todo += [other for other in functions if re.search(rf"\b{other}\(", source)]
    return names


def routes(app: Flask, pages: list[str]) -> list[Route]:
    """Every rule and method (static files aside), with fields from rendered `pages` and the source."""
    found: dict[tuple[str, str], Route] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("assets."):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            route = Route(rule, method)
            wheres = ("args",) if method == "GET" else ("args", "form")  # a GET has no form
            route.fields = {name: "harmless" for where, name in sorted(reads(app, rule.endpoint)) if where in wheres}
            found[(rule.endpoint, method)] = route
    adapter = app.url_map.bind("portal.test")
    for html in pages:
        parser = Forms()
        parser.feed(html)
        for action, method, fields in parser.forms:
            endpoint, _args = adapter.match(urlsplit(action).path or "/", method=method)
            route = found[(endpoint, method)]
            route.fields.update({k: v for k, v in fields.items() if k != "csrf_token"})
    last = {endpoint: n for n, endpoint in enumerate(LAST_ENDPOINTS, 1)}
    return sorted(found.values(), key=lambda r: (last.get(r.endpoint, 0), r.endpoint, r.method))


# -- sending ---------------------------------------------------------------------------------------

@dataclass
class Walk:
    app: Flask
    client: FlaskClient
    actor: str
    token: str
    requests: int = 0
    failures: list[str] = field(default_factory=list)

    def send(self, method: str, path: str, pairs: list[tuple[str, Value]], what: str) -> Any:
        limiter.reset()  # in memory: cheap enough for every request
        if self.requests % FORGET_EVERY == 0:
            forget_counts(self.app)
        self.requests += 1
        response = self._request(method, path, pairs)
        if refused_as_expired(response):  # the session was replaced (signing out does that)
            self.token = token_of(self.client)
            response = self._request(method, path, pairs)
        if response.status_code >= 500 or refused_as_expired(response):
            self.failures.append(f"{self.actor} {method} {path[:80]} {what}: {response.status_code}"
                                 f"{'' if response.status_code >= 500 else ' (CSRF refused: the view never ran)'}")
        return response

    def _request(self, method: str, path: str, pairs: list[tuple[str, Value]]) -> Any:
        if method == "GET":
            return self.client.get(path, query_string=encode(pairs))
        return self.client.open(path, method=method, data=encode([("csrf_token", self.token), *pairs]),
                                content_type="application/x-www-form-urlencoded")

    def turned_away(self, route: Route, path: str) -> bool:
        """Sent to sign in, or refused, before the view reads a field: its fields are another actor's."""
        answer = self.send(route.method, path, list(route.fields.items()), "harmless")
        location = answer.headers.get("Location", "")
        return answer.status_code == 403 or "/signin" in location or "/reauth" in location

    def route(self, route: Route) -> None:
        """Every hostile value in every field, alone and all at once, and in every path parameter."""
        names = [*route.fields, ALL_FIELDS] if len(route.fields) > 1 else [*route.fields] or [ALL_FIELDS]
        for values in sample_values(route.rule):
            path = url(route.rule, values)
            if self.turned_away(route, path):
                continue
            for name in names:
                for label, value in CORPUS.items():
                    pairs = [(key, value if name in (key, ALL_FIELDS) else harmless)
                             for key, harmless in route.fields.items()] or [("unexpected", value)]
                    self.send(route.method, path, pairs, f"{name}={label}")
        for name in route.rule.arguments:
            for value in PATH_VALUES:
                self.send(route.method, url(route.rule, {**next(sample_values(route.rule)), name: value}),
                          [], f"<{name}>={value[:12]}")


def pages_of(client: FlaskClient, app: Flask, extra: tuple[str, ...] = ()) -> list[str]:
    """The rendered GET pages (harmless path values), plus pages only reachable in a state."""
    paths = [url(rule, values) for rule in app.url_map.iter_rules()
             if "GET" in (rule.methods or set()) and not rule.endpoint.startswith("assets.")
             for values in sample_values(rule)]
    return [client.get(path).get_data(as_text=True) for path in [*paths, *extra]]


def token_of(client: FlaskClient) -> str:
    match = CSRF_FIELD.search(client.get("/reset/").get_data(as_text=True))
    assert match
    return match.group(1)


def prepared_person(app: Flask, person: Person) -> FlaskClient:
    """Signed in, with an app being enrolled, an address waiting for its code, a step-up code sent."""
    client = signed_in(app, person.login, person.password)
    token = token_of(client)
    client.get("/register/totp")
    assert client.post("/register/email", data={"csrf_token": token, "address": "fresh@mail.example"}
                       ).status_code == 302
    verify = client.get("/register/verify").get_data(as_text=True)
    destination = re.search(r'name="destination" value="([^"]+)"', verify)
    assert destination
    assert client.post("/register/verify/send", data={"csrf_token": token, "destination": destination.group(1)}
                       ).status_code == 302
    return client


def test_no_input_on_any_route_gives_a_500(app: Flask, person: Person, record_property: Any) -> None:
    anonymous = app.test_client()
    member = prepared_person(app, person)
    admin = signed_in(app, "erin", people.person("erin").password)
    actors = {"signed out": anonymous, "signed in": member, "administrator": admin}
    pages = [page for client in actors.values() for page in pages_of(
        client, app, ("/register/email/confirm", "/register/verify/code", "/register/totp"))]
    every = routes(app, pages)
    walks = []
    for actor, client in actors.items():
        walk = Walk(app, client, actor, token_of(client))
        for route in every:
            admin_route = route.endpoint.startswith("admin.")
            if actor == "signed out" or (actor == "administrator") == admin_route:
                walk.route(route)
        walks.append(walk)

    rules = {r.rule.rule for r in every}
    fields = sum(len(r.fields) for r in every)
    sent = sum(w.requests for w in walks)
    summary = f"{len(rules)} routes, {len(every)} route-methods, {fields} fields, {sent} requests"
    print(f"hostile input walk: {summary}")
    record_property("walk", summary)
    assert len(rules) >= 40 and fields >= 30  # the walk cannot quietly shrink
    failures = [f for w in walks for f in w.failures]
    assert not failures, f"{len(failures)} answers of 500 or more:\n" + "\n".join(failures[:60])


def as_header(value: Value) -> str:
    """The value as a server receives header bytes: UTF-8 read as latin-1 (raw escapes as they are)."""
    if isinstance(value, Repeated):
        return ", ".join(value.values)
    return value.escaped if isinstance(value, Raw) else value.encode("utf-8").decode("latin-1")


@pytest.mark.filterwarnings("ignore:The 'portal_session' cookie is too large")  # that is the point
def test_hostile_cookies_and_headers_give_no_500(app: Flask) -> None:
    """The session cookie, the request id and the API's bearer key are input too."""
    client = app.test_client()
    sent = 0
    for label, value in CORPUS.items():
        text = as_header(value)
        client.set_cookie("portal_session", text, domain=urlsplit(BASE_URL).hostname or "")
        for path in ("/", "/reset/", "/api/v1/registration-status?user=alice"):
            answer = client.get(path, headers={"X-Request-ID": text, "Authorization": f"Bearer {text}"})
            sent += 1
            assert answer.status_code < 500, f"{path} {label}: {answer.status_code}"
    assert sent == 3 * len(CORPUS)


# -- the same answer for a known and an unknown account --------------------------------------------

def normalized(response: Any, typed: str = "", instead: str = "") -> tuple[int, str, str]:
    """Status, redirect and page, without what differs for every session or every question set
    (and with the login name `typed`, which the form keeps, read as `instead`)."""
    body = TOKEN.sub(r"\1TOKEN", response.get_data(as_text=True))
    if typed:
        body = body.replace(f'value="{typed}"', f'value="{instead}"')
    body = ANSWER_KEY.sub("answer-KEY", QUESTION_LABEL.sub("<label>QUESTION</label>", body))
    return response.status_code, response.headers.get("Location", ""), body


@dataclass
class Pair:
    """The same steps for a known and an unknown account, each in its own browser."""

    app: Flask
    known: Browser
    unknown: Browser
    compared: int = 0
    differences: list[str] = field(default_factory=list)
    typed: tuple[str, str] = ("", "")  # the known and unknown login names a form keeps: read as one

    def both(self, step: Callable[[Browser], Any], what: str) -> None:
        forget_counts(self.app)
        known = step(self.known)
        forget_counts(self.app)
        unknown = step(self.unknown)
        self.compared += 1
        for answer in (known, unknown):
            assert answer.status_code < 500 and not refused_as_expired(answer), f"{what}: {answer.status_code}"
        mine, other = self.typed
        if normalized(known, mine, other) != normalized(unknown):
            self.differences.append(f"{what}: known {known.status_code}, unknown {unknown.status_code}")


def hostile_post(path: str, fields: dict[str, Value], form_page: str = "/reset/") -> Callable[[Browser], Any]:
    def step(browser: Browser) -> Any:
        match = CSRF_FIELD.search(browser.client.get(form_page).get_data(as_text=True))
        assert match
        return browser.client.post(path, data=encode([("csrf_token", match.group(1)), *fields.items()]),
                                   content_type="application/x-www-form-urlencoded")
    return step


def asked(browser: Browser) -> list[str]:
    return re.findall(r'name="(answer-[\w-]+)"', browser.get("/reset/questions").get_data(as_text=True))


def test_reset_answers_the_same_for_a_known_and_an_unknown_account(app: Flask, person: Person) -> None:
    pair = Pair(app, Browser(app.test_client()), Browser(app.test_client()))
    for label, value in CORPUS.items():
        pair.both(hostile_post("/reset/", {"identifier": value}), f"identify {label}")
    pair.both(lambda b: b.identify(person.login if b is pair.known else UNKNOWN_LOGIN), "identify")
    for label, value in CORPUS.items():
        pair.both(hostile_post("/reset/verify", {"method": value}), f"method {label}")
    for method in ("totp", "email", "phone"):
        pair.both(lambda b, m=method: b.choose(m), f"choose {method}")
        for label, value in CORPUS.items():
            pair.both(hostile_post("/reset/code", {"code": value}), f"{method} code {label}")
    pair.both(lambda b: b.choose("questions"), "choose questions")
    keys = {"known": asked(pair.known), "unknown": asked(pair.unknown)}
    for label, value in CORPUS.items():
        def answer(browser: Browser, value: Value = value) -> Any:
            names = keys["known" if browser is pair.known else "unknown"]
            return hostile_post("/reset/questions", {name: value for name in names})(browser)
        pair.both(answer, f"answers {label}")
    assert pair.compared > 4 * len(CORPUS)
    assert not pair.differences, "\n".join(pair.differences)


def test_the_new_password_step_refuses_every_hostile_value_with_a_400(app: Flask, person: Person) -> None:
    """Only a verified flow reaches it (so no unknown account to compare with): each value is
    refused with the page's message, and the flow stays open for the next try. (Bytes that are not
    UTF-8 reach the view as the text of their escapes, "%ED%A0%80": werkzeug's choice, and a
    password anyone could type, so that value would simply be set; it is left out here.)"""
    browser = Browser(app.test_client())
    secret = register_totp(app, person)
    forget_counts(app)
    browser.identify(person.login)
    browser.choose("totp")
    with mid_time_step():
        assert browser.enter_code(pyotp.TOTP(secret).now()).headers["Location"].endswith("/reset/password")
    names = ("new_password", "new_password_again")
    typable = {label: value for label, value in CORPUS.items() if not isinstance(value, Raw)}
    for name in [*names, ALL_FIELDS]:
        for label, value in typable.items():
            forget_counts(app)
            fields: dict[str, Value] = {key: value if name in (key, ALL_FIELDS) else NEW_PASSWORD for key in names}
            answer = hostile_post("/reset/password", fields)(browser)
            assert answer.status_code == 400 and not refused_as_expired(answer), f"{name}={label}"
    assert browser.get("/reset/password").status_code == 200


def test_change_answers_the_same_for_a_known_and_an_unknown_login(app: Flask, person: Person) -> None:
    pair = Pair(app, Browser(app.test_client()), Browser(app.test_client()), typed=(person.login, UNKNOWN_LOGIN))
    harmless = {"current_password": "not the password", "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD}
    for name in [*harmless, ALL_FIELDS]:
        for label, value in CORPUS.items():
            def change(browser: Browser, name: str = name, value: Value = value) -> Any:
                fields: dict[str, Value] = {key: value if name in (key, ALL_FIELDS) else text
                                            for key, text in harmless.items()}
                fields["login"] = person.login if browser is pair.known else UNKNOWN_LOGIN
                return hostile_post("/change/", fields, form_page="/change/")(browser)
            pair.both(change, f"change {name}={label}")
    assert not pair.differences, "\n".join(pair.differences)

