"""Password-expiry reminders against both real directories: whose password expires soon comes from
the directory itself (OpenLDAP pwdChangedTime + pwdMaxAge, AD msDS-UserPasswordExpiryTimeComputed),
and a person gets at most one reminder a day."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

import pytest
from flask import Flask

from devstack import ldif
from devstack.mailsink import MailSink
from devstack.people import BASE_DN
from devstack.samba import SambaDC
from devstack.slapd import Slapd
from portal import clock
from portal.settings.directory import DirectorySettings
from tests.admin_support import POLICY_DN, admin_app  # noqa: F401
from tests.adapters.directory.directory_contract import portal_environ
from tests.registration_support import mail_body
from tests.support import BASE_URL

PASSWORD = "Expiry.Start.2026!"
SHORT_POLICY = f"cn=expiry-short,ou=policies,{BASE_DN}"
UF_DONT_EXPIRE_PASSWD = 0x10000


@dataclass(frozen=True)
class Scenario:
    """People named exp-<kind>-*: `soon` is due for a reminder once the clock reads `now`."""

    environ: dict[str, str]
    soon: str
    now: timedelta  # how far to move the clock so that `soon` expires in 10 days, the rest not soon
    first_run: str  # what the first run reports


@pytest.fixture(scope="module")
def openldap(slapd: Slapd) -> Scenario:
    """soon: a policy with a 10-day maximum age; later: the people policy (90 days); never: no maximum;
    no mail / disabled: 10 days too, but nobody to write to or nothing to do."""
    slapd.apply(ldif.entry(SHORT_POLICY, {"objectClass": ["device", "pwdPolicy"], "cn": "expiry-short",
                                          "pwdAttribute": "userPassword", "pwdMaxAge": str(10 * 24 * 3600)}))
    slapd.add_person("exp-ol-soon", PASSWORD, policy_dn=SHORT_POLICY)
    slapd.add_person("exp-ol-later", PASSWORD)
    slapd.add_person("exp-ol-never", PASSWORD, policy_dn=f"cn=service,ou=policies,{BASE_DN}")
    slapd.add_person("exp-ol-nomail", PASSWORD, policy_dn=SHORT_POLICY, mail=[])
    slapd.disable(slapd.add_person("exp-ol-disabled", PASSWORD, policy_dn=SHORT_POLICY))
    return Scenario({"PORTAL_DIRECTORY__USER_FILTER": "(&(objectClass=inetOrgPerson)(uid=exp-ol-*))",
                     "PORTAL_DIRECTORY__PASSWORD_POLICY_DN": POLICY_DN}, "exp-ol-soon", timedelta(0),
                    "2 passwords expire within 14 days: 1 reminders queued, 0 already reminded today, "
                    "1 without a mail address")


@pytest.fixture(scope="module")
def active_directory(samba: SambaDC) -> Scenario:
    """The domain's maximum age is 90 days: 80 days on, exp-ad-soon has 10 left. exp-ad-never's
    password does not expire; exp-ad-disabled is disabled."""
    samba.add_person("exp-ad-soon", PASSWORD)
    never = samba.add_person("exp-ad-never", PASSWORD)
    samba.modify(never, {"userAccountControl": str(0x200 | UF_DONT_EXPIRE_PASSWD)})
    samba.disable(samba.add_person("exp-ad-disabled", PASSWORD))
    settings = DirectorySettings(kind="active_directory", url=samba.url, ca_file=str(samba.ca_file),
                                 tls_server_name=samba.tls_name, bind_dn=samba.service_dn,
                                 bind_password=samba.service_password, base_dn=samba.people_dn)
    filter_ = "(&(objectCategory=person)(objectClass=user)(sAMAccountName=exp-ad-*))"
    return Scenario({**portal_environ(settings), "PORTAL_DIRECTORY__USER_FILTER": filter_}, "exp-ad-soon",
                    timedelta(days=80), "1 passwords expire within 14 days: 1 reminders queued, "
                                        "0 already reminded today, 0 without a mail address")


@pytest.fixture(params=["openldap", "active_directory"])
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return request.getfixturevalue(request.param)


def remind(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["reminders", "expiry"])
    assert result.exit_code == 0, result.output
    return result.output


def reminders(mailbox: MailSink) -> list[EmailMessage]:
    time.sleep(0.2)  # the command waits for delivery; give the SMTP server a moment to write the file
    return [m for m in mailbox.messages() if "password expires" in m["Subject"]]


def test_people_whose_password_expires_soon_get_one_reminder_a_day(
        admin_app: Callable[..., Flask], scenario: Scenario, mailbox: MailSink) -> None:
    app = admin_app(environ=scenario.environ)
    with clock.travel(scenario.now):
        assert remind(app).startswith(scenario.first_run)
    [mail] = reminders(mailbox)
    assert mail["To"] == f"{scenario.soon}@example.test"
    assert mail["Subject"] == "Your Your organization password expires in 10 days"  # the default theme's name
    body = mail_body(mail)
    assert f"Change it now, while you still know it:\n{BASE_URL}/change" in body
    assert "Your password expires on " in body

    with clock.travel(scenario.now):
        assert "0 reminders queued, 1 already reminded today" in remind(app)   # the same day: nothing new
    assert len(reminders(mailbox)) == 1

    with clock.travel(scenario.now + timedelta(days=1)):
        assert "1 reminders queued" in remind(app)                               # the next day: again
    assert len(reminders(mailbox)) == 2


def test_an_expired_password_gets_no_reminder(admin_app: Callable[..., Flask], scenario: Scenario,
                                               mailbox: MailSink) -> None:
    app = admin_app(environ=scenario.environ)
    with clock.travel(scenario.now + timedelta(days=11)):
        assert remind(app).startswith("0 passwords expire within 14 days")
    assert reminders(mailbox) == []


def test_an_unreachable_directory_is_one_clear_line(admin_app: Callable[..., Flask], mailbox: MailSink) -> None:
    app = admin_app(environ={"PORTAL_DIRECTORY__URL": "ldap://127.0.0.1:9", "PORTAL_DIRECTORY__TIMEOUT_SECONDS": "1"})
    for command in (["reminders", "expiry"], ["reports", "refresh"]):  # reports count what refresh stored
        result = app.test_cli_runner().invoke(args=command)
        assert result.exit_code == 1
        assert result.output.startswith("Error: the directory cannot be reached (")
        assert "Traceback" not in result.output
    assert reminders(mailbox) == []
