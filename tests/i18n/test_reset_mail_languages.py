"""The reset's mails: the code in the language of the page that asked for it (whoever typed the
name, the page is the same for every account), the notice afterwards in the language the person
used, and a pause caused by someone else's attempts in the owner's language, not theirs."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from devstack.mailsink import MailSink
from portal.store.languages import PersonLanguage
from tests.registration_support import code_in, mail_body, sms_gateway  # noqa: F401 - fixture
from tests.reset_support import (NEW_PASSWORD, Browser, Stack, app, mails_to,  # noqa: F401
                                 new_browser, reset_app, stack)


def speaking(app: Flask, language: str) -> Browser:
    browser = new_browser(app)
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return browser


def last_used(app: Flask) -> list[str]:
    with app.extensions["store"].transaction() as db:
        return list(db.scalars(select(PersonLanguage.language)))


def test_a_reset_in_french_is_mailed_in_french_and_remembered(app: Flask, stack: Stack, mailbox: MailSink) -> None:
    person = stack.add_person(preferredLanguage="es")
    browser = speaking(app, "fr-FR,fr;q=0.9")
    unknown = speaking(app, "fr-FR,fr;q=0.9")
    unknown.identify("nobody-has-this-name")
    browser.identify(person.login)
    assert browser.get("/reset/verify").get_data(as_text=True).count("Prouvez votre identité") \
        == unknown.get("/reset/verify").get_data(as_text=True).count("Prouvez votre identité") > 0
    browser.choose("email")
    code_mail = mails_to(mailbox, person.alternate_email, "Votre code de vérification")
    assert "Votre code de vérification est :" in mail_body(code_mail)
    browser.enter_code(code_in(mail_body(code_mail)))
    browser.set_password(NEW_PASSWORD)
    assert "Votre mot de passe a été modifié" in browser.text
    notice = mails_to(mailbox, person.alternate_email, "Votre mot de passe a été réinitialisé")
    assert "Si ce n'était pas vous, contactez immédiatement le support informatique" in mail_body(notice)
    assert last_used(app) == ["fr"]


def test_a_pause_someone_else_caused_is_mailed_in_the_owner_s_language(reset_app: object, stack: Stack,
                                                                        mailbox: MailSink) -> None:
    app = reset_app({"PORTAL_RESET__MAX_FAILED_VERIFICATIONS": "2"})  # type: ignore[operator]
    person = stack.add_person(preferredLanguage="es-MX, en;q=0.3")
    stranger = speaking(app, "de")
    stranger.identify(person.login)
    stranger.choose("email")
    mails_to(mailbox, person.alternate_email, "Ihr Bestätigungscode")  # the page's language: the one who asked
    for _ in range(2):
        stranger.enter_code("000000")
    app.extensions["outbox"].deliver_due()
    paused = mails_to(mailbox, person.alternate_email, "Restablecimiento de contraseña en pausa")
    assert "Hola, " in mail_body(paused)
    assert last_used(app) == []  # typing a name and failing is not "using" the portal
