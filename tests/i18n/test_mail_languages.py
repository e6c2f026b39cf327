"""Mail goes out in the recipient's language: the one they last used the portal in, else their
directory entry's preferredLanguage, else [i18n] default; a code typed for anonymously comes in
the language of the page that asked for it."""
from __future__ import annotations

import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from flask import Flask

from devstack import ldif
from devstack.mailsink import MailSink
from devstack.people import BASE_DN
from devstack.slapd import Slapd
from portal import clock
from portal.adapters.directory import directory_for
from portal.services.messaging import languages
from portal.store import get_store
from portal.store.languages import PersonLanguage
from tests.admin_support import admin_app, directory_environ, refresh_standings  # noqa: F401 - fixture
from tests.registration_support import mail_body

OU = f"ou=mail-languages,{BASE_DN}"
# login -> the directory's preferredLanguage (None: the entry has none)
PEOPLE = {"lang-fr": "fr-CA", "lang-de": "de-CH, fr;q=0.5", "lang-it": "it", "lang-none": None, "lang-used": "es"}


SHORT_POLICY = f"cn=lang-short,ou=policies,{BASE_DN}"  # passwords expire after 10 days


@pytest.fixture(scope="module")
def people(slapd: Slapd) -> None:
    """PEOPLE without a password (nothing expires), and lang-expiring, French, whose password expires soon."""
    slapd.apply(ldif.entry(OU, {"objectClass": "organizationalUnit", "ou": "mail-languages"}))
    slapd.apply(ldif.entry(SHORT_POLICY, {"objectClass": ["device", "pwdPolicy"], "cn": "lang-short",
                                          "pwdAttribute": "userPassword", "pwdMaxAge": str(10 * 24 * 3600)}))
    for login, preferred in PEOPLE.items():
        slapd.apply(ldif.entry(f"uid={login},{OU}", person(login, preferred)))
    slapd.apply(ldif.entry(f"uid=lang-expiring,{OU}", {**person("lang-expiring", "fr"), "userPassword": "Lang.Expiring.2026!",
                                                      "pwdPolicySubentry": SHORT_POLICY}))


def person(login: str, preferred: str | None) -> dict[str, ldif.Values]:
    return {"objectClass": ["inetOrgPerson"], "uid": login, "cn": login, "sn": "Language",
            "displayName": f"{login.title()} Person", "mail": f"{login}@example.test",
            **({"preferredLanguage": preferred} if preferred else {})}


@pytest.fixture
def app(admin_app: Callable[..., Flask], people: None) -> Flask:  # noqa: F811 - admin_app is a fixture
    app = admin_app(environ=directory_environ(OU))
    with app.app_context(), get_store().transaction() as db:  # lang-used last used the portal in German
        user = directory_for().find_user("lang-used")
        assert user is not None
        db.add(PersonLanguage(directory_id=user.directory_id, language="de", used_at=clock.utcnow()))
    return app


def cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return str(result.output)


def delivered(mailbox: MailSink, count: int) -> dict[str, EmailMessage]:
    deadline = time.monotonic() + 10
    while len(found := mailbox.messages()) < count:
        assert time.monotonic() < deadline, f"{len(found)} messages, expected {count}"
        time.sleep(0.05)
    return {m["To"].split("@")[0]: m for m in found}


def test_a_campaign_speaks_each_recipient_s_language(app: Flask, mailbox: MailSink) -> None:
    refresh_standings(app)  # reads preferredLanguage with the rest of each person's standing
    campaign = cli(app, "campaign", "create", "--template", "coming_soon", "--audience", "everybody").strip()
    cli(app, "campaign", "send", campaign)
    mails = delivered(mailbox, len(PEOPLE) + 1)
    subjects = {login: mail["Subject"] for login, mail in mails.items()}
    assert subjects == {
        "lang-expiring": "Bientôt : réinitialisez vous-même votre mot de passe Votre organisation",
        "lang-fr": "Bientôt : réinitialisez vous-même votre mot de passe Votre organisation",
        "lang-de": "Demnächst: Setzen Sie Ihr Passwort bei Ihre Organisation selbst zurück",
        "lang-it": "Coming soon: reset your own Your organization password",  # not offered: the default
        "lang-none": "Coming soon: reset your own Your organization password",
        "lang-used": "Demnächst: Setzen Sie Ihr Passwort bei Ihre Organisation selbst zurück",  # used wins
    }
    assert "Bonjour Lang-Fr Person," in mail_body(mails["lang-fr"])
    assert "Brauchen Sie Hilfe? Wenden Sie sich an den IT-Helpdesk" in mail_body(mails["lang-de"])


def test_an_expiry_reminder_speaks_the_directory_s_language(app: Flask, mailbox: MailSink) -> None:
    cli(app, "reminders", "expiry")
    [reminder] = [m for m in delivered(mailbox, 1).values()]
    assert reminder["To"] == "lang-expiring@example.test"
    assert reminder["Subject"] == "Votre mot de passe Votre organisation expire dans 10 jours"
    assert "Changez-le maintenant, tant que vous le connaissez encore :" in mail_body(reminder)


def test_the_default_language_is_the_settings_one(admin_app: Callable[..., Flask], people: None,  # noqa: F811
                                                  mailbox: MailSink) -> None:
    app = admin_app(environ={**directory_environ(OU), "PORTAL_I18N__DEFAULT": "es"})
    with app.app_context():
        assert [languages.choose(None, preferred) for preferred in (None, "it", "fr-BE", "xx, de;q=0.2")] \
            == ["es", "es", "fr", "de"]
        assert languages.choose("fr", "de") == "fr"        # last used wins over the directory
        assert languages.choose("it", "de") == "de"        # a language no longer offered does not
