"""The demo organization shared by every part of the dev stack.

slapd and Samba are seeded from it, the OpenID Connect provider signs these people in with
their directory passwords, and the tests and `make demo` print and use the same accounts.
Keeping it in one place is what makes "the directory password works at the provider" true.
"""
from __future__ import annotations

from dataclasses import dataclass, field

BASE_DN = "dc=example,dc=test"
PEOPLE_OU = f"ou=people,{BASE_DN}"
GROUPS_OU = f"ou=groups,{BASE_DN}"
SERVICES_OU = f"ou=services,{BASE_DN}"
MAIL_DOMAIN = "example.test"


@dataclass(frozen=True)
class Person:
    username: str
    given_name: str
    surname: str
    password: str
    groups: tuple[str, ...] = field(default_factory=tuple)
    mobile: str | None = None
    other_mail: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.surname}"

    @property
    def email(self) -> str:
        return f"{self.username}@{MAIL_DOMAIN}"


@dataclass(frozen=True)
class ServiceAccount:
    username: str
    password: str


PILOT_GROUP = "sspr-pilot"
STAFF_GROUP = "staff"
ADMIN_GROUP = "portal-admins"
GROUPS: tuple[str, ...] = (STAFF_GROUP, PILOT_GROUP, ADMIN_GROUP)

# Mobile numbers are in the 555-0100..0199 range reserved for fiction, in a real US area code,
# so phone-number validation accepts them as it would a real employee's number.
PEOPLE: tuple[Person, ...] = (
    Person("alice", "Alice", "Andersen", "Alice.Demo.2026!", (STAFF_GROUP, PILOT_GROUP),
           mobile="+12015550101", other_mail="alice.private@mail.example"),
    Person("bob", "Bob", "Berg", "Bob.Demo.2026!", (STAFF_GROUP, PILOT_GROUP),
           mobile="+12015550102"),
    Person("carol", "Carol", "Chen", "Carol.Demo.2026!", (STAFF_GROUP, PILOT_GROUP)),
    Person("dave", "Dave", "Dubois", "Dave.Demo.2026!", (STAFF_GROUP,)),
    Person("erin", "Erin", "Admin", "Erin.Demo.2026!", (STAFF_GROUP, PILOT_GROUP, ADMIN_GROUP),
           mobile="+12015550105"),
)

# Only in the Active Directory domain (devstack/samba.py), where `make demo DIRECTORY=ad` protects
# this group: Frank shows how the portal refuses a protected account. slapd stays as it was.
PROTECTED_GROUP = "protected-accounts"
AD_ONLY_PEOPLE: tuple[Person, ...] = (
    Person("frank", "Frank", "Fischer", "Frank.Demo.2026!", (STAFF_GROUP, PILOT_GROUP, PROTECTED_GROUP),
           other_mail="frank.private@mail.example"),
)

# Seeded into the demo's portal only (devstack/seed.py), never the tests' directory or database: the
# demo administrator's alternate email and authenticator app, two methods administrators may use
# whatever the gateway (her mobile counts too while the demo's SMS sink is on), so /admin opens at once. Published, like
# the passwords: add the key to any authenticator app to try the administrator's journeys.
DEMO_ADMIN = "erin"
DEMO_ADMIN_ALTERNATE_EMAIL = "erin.private@mail.example"
DEMO_ADMIN_AUTHENTICATOR_KEY = "ERINDEMOADMINKEYPUBLISHED2026ABC"

SERVICE = ServiceAccount("svc-portal", "Svc.Portal.2026!")


def person(username: str) -> Person:
    """The demo person with this login name; KeyError for anyone else."""
    for candidate in PEOPLE:
        if candidate.username == username:
            return candidate
    raise KeyError(username)
