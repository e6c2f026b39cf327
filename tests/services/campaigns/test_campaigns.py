"""Campaigns: audiences from the directory and the store, preview, test mail, sending from /admin,
branded templates IT can override, and rendering in the sandbox."""
from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2.exceptions import SecurityError

from devstack import ldif
from devstack.mailsink import MailSink
from devstack.people import BASE_DN
from devstack.slapd import Slapd
from portal import PROJECT_ROOT, clock
from portal.adapters.directory import directory_for
from portal.branding import use_theme
from portal.services.campaigns import campaigns
from portal.services.container import collaborators
from portal.services.messaging import messages
from portal.services.messaging.links import mail_links
from portal.services.proofs import security_info
from portal.store import get_store
from portal.store.campaigns import Campaign
from portal.store.standings import PersonStanding
from tests.admin_support import (  # noqa: F401
    ADMIN, admin_app, directory_environ, location, post, progress_of, refresh_standings)
from tests.registration_support import mail_body, sign_in
from tests.support import BASE_URL

OU = f"ou=campaign-audiences,{BASE_DN}"


@pytest.fixture(scope="module")
def audience_people(slapd: Slapd) -> dict[str, str]:
    """aud-ann registered, aud-ben not, aud-cat registered long ago (due to re-confirm), aud-dan
    disabled, aud-eve without a mail address. Ann and Ben are in the pilot group."""
    slapd.apply(ldif.entry(OU, {"objectClass": "organizationalUnit", "ou": "campaign-audiences"}))
    dns = {}
    for name, groups, extra in (("aud-ann", ("sspr-pilot",), {}), ("aud-ben", ("sspr-pilot",), {}),
                                ("aud-cat", (), {}), ("aud-dan", (), {}), ("aud-eve", (), {"mail": []})):
        dn = f"uid={name},{OU}"
        slapd.apply(ldif.document([ldif.entry(dn, {"objectClass": ["inetOrgPerson"], "uid": name, "cn": name,
                                                   "sn": "Audience", "displayName": f"{name.title()} Person",
                                                   "mail": f"{name}@example.test", **extra})]
                                  + [ldif.modify(f"cn={g},ou=groups,{BASE_DN}", add={"member": dn}) for g in groups]))
        dns[name] = dn
    slapd.disable(dns["aud-dan"])
    return dns


def register(app: Flask, login: str, ago: timedelta = timedelta(0)) -> None:
    """Register an alternate address for `login` the way /register saves it, `ago` in the past."""
    with app.app_context(), get_store().transaction() as db, clock.travel(-ago):
        user = directory_for().find_user(login)
        assert user is not None
        security_info.save_method(db, user, "email", destination=f"{login}.private@mail.example")


@pytest.fixture
def audience_app(admin_app: Callable[..., Flask], audience_people: dict[str, str]) -> Callable[..., Flask]:
    def build(**toml: Any) -> Flask:
        app = admin_app(environ=directory_environ(OU), **toml)
        register(app, "aud-ann")
        register(app, "aud-cat", ago=timedelta(days=200))  # reconfirm_days is 180
        refresh_standings(app)
        return app
    return build


def audience_of(app: Flask, audience: str, group: str | None = None) -> set[str]:
    with app.app_context(), get_store().transaction() as db:
        settings = app.extensions["settings"]
        campaign = Campaign(template="coming_soon", audience=audience, group=group, theme="default")
        return set(db.scalars(campaigns.audience(settings, campaign).with_only_columns(PersonStanding.login)))


def test_audiences_come_from_the_directory_and_the_store(audience_app: Callable[..., Flask]) -> None:
    app = audience_app()
    assert audience_of(app, "everybody") == {"aud-ann", "aud-ben", "aud-cat"}   # not disabled, has mail
    assert audience_of(app, "unregistered") == {"aud-ben"}
    assert audience_of(app, "reconfirm_due") == {"aud-cat"}
    assert audience_of(app, "everybody", group="sspr-pilot") == {"aud-ann", "aud-ben"}


def test_with_reset_rolled_out_to_a_group_only_its_members_are_in_scope(audience_app: Callable[..., Flask]) -> None:
    app = audience_app(rollout='reset = "group"\ngroups = ["SSPR-Pilot"]')
    assert audience_of(app, "everybody") == {"aud-ann", "aud-ben"}
    assert audience_of(app, "unregistered") == {"aud-ben"}


def wait_for_mail(mailbox: MailSink, count: int, timeout: float = 10.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(found := mailbox.messages()) < count:
        assert time.monotonic() < deadline, f"{len(found)} messages, expected {count}"
        time.sleep(0.05)
    return found


def test_an_administrator_previews_tests_and_sends_a_campaign(audience_app: Callable[..., Flask],
                                                              mailbox: MailSink) -> None:
    app = audience_app()
    client = app.test_client()
    sign_in(client, ADMIN)
    created = post(client, "/admin/campaigns/new", {"template": "coming_soon", "audience": "everybody"})
    page_path = location(created)
    page = client.get(page_path).get_data(as_text=True)
    assert "3 people would receive it now." in page
    assert "Coming soon: reset your own Your organization password" in page      # the theme's organization
    assert f"{BASE_URL}/register" in page                                         # links from base_url

    post(client, f"{page_path}/test")
    [test_mail] = wait_for_mail(mailbox, 1)
    assert test_mail["To"] == "erin@example.test" and "Hello Erin Admin," in mail_body(test_mail)

    mailbox.clear()
    assert location(post(client, f"{page_path}/send")) == f"{page_path}/send"      # not without confirming
    confirm = client.get(f"{page_path}/send").get_data(as_text=True)
    assert "3 people will be mailed." in confirm and 'name="expected" value="3"' in confirm
    started = post(client, f"{page_path}/send", {"expected": "3"})
    assert started.status_code == 303 and location(started) == page_path
    sent = wait_for_mail(mailbox, 3)
    assert sorted(m["To"] for m in sent) == ["aud-ann@example.test", "aud-ben@example.test", "aud-cat@example.test"]
    for message in sent:
        body = mail_body(message)
        assert f"{BASE_URL}/register" in body
        assert "Need help? Contact the IT help desk" in body                      # the help-desk contact
        assert message.get_content_type() == "multipart/alternative"
        html = message.get_body(preferencelist=("html",)).get_content()          # type: ignore[union-attr]
        assert f'<img src="{BASE_URL}/static/logo.svg"' in html                  # the theme's logo, absolute
        assert "background: #0F6CBD" in html                                     # and its primary colour
        assert "[Test]" not in message["Subject"] and "test message" not in body

    campaign_id = int(page_path.rsplit("/", 1)[1])
    deadline = time.monotonic() + 5
    while progress_of(app, campaign_id).delivered < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert progress_of(app, campaign_id) == campaigns.Progress(total=3, pending=0, waiting=0, delivered=3, failed=0,
                                                               unrecorded=0)
    again = post(client, f"{page_path}/send", {"expected": "3"})
    assert "already been started" in client.get(location(again)).get_data(as_text=True)
    assert "already been started" in client.get(location(client.get(f"{page_path}/send"))).get_data(as_text=True)
    time.sleep(0.3)
    assert len(mailbox.messages()) == 3

    report = client.get(f"{page_path}/recipients.csv").get_data(as_text=True).splitlines()
    assert report[0] == '"username","name","email","template","queued_at","delivery","delivered_at"'
    assert sorted(line.split(",")[0] for line in report[1:]) == ['"aud-ann"', '"aud-ben"', '"aud-cat"']
    assert all('"sent"' in line for line in report[1:])


def test_the_test_mail_says_it_is_a_test_in_its_subject_and_both_parts(audience_app: Callable[..., Flask],
                                                                       mailbox: MailSink) -> None:
    client = audience_app().test_client()
    sign_in(client, ADMIN)
    page_path = location(post(client, "/admin/campaigns/new", {"template": "available_now", "audience": "everybody"}))
    flashed = client.get(location(post(client, f"{page_path}/test"))).get_data(as_text=True)
    assert "A test message, marked as a test, is on its way to erin@example.test." in flashed
    [test_mail] = wait_for_mail(mailbox, 1)
    assert test_mail["Subject"] == "[Test] You can now reset your own Your organization password"
    assert mail_body(test_mail).startswith("*** This is a test message: only you received it.")
    html = test_mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "This is a test message: only you received it." in html


def test_the_html_preview_shows_the_mail_with_its_inline_styles_and_still_no_script(
        audience_app: Callable[..., Flask]) -> None:
    client = audience_app().test_client()
    sign_in(client, ADMIN)
    page_path = location(post(client, "/admin/campaigns/new", {"template": "coming_soon", "audience": "everybody"}))
    preview = client.get(f"{page_path}/preview.html")
    policy = preview.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy
    assert "img-src 'self' data:;" in policy and "default-src 'none'" in policy
    assert f'<img src="{BASE_URL}/static/logo.svg"' in preview.get_data(as_text=True)
    assert "style-src 'self';" in client.get(page_path).headers["Content-Security-Policy"]   # the page around it


def test_a_send_confirmed_for_another_number_sends_nothing_and_asks_again(audience_app: Callable[..., Flask],
                                                                          mailbox: MailSink) -> None:
    app = audience_app()
    client = app.test_client()
    sign_in(client, ADMIN)
    page_path = location(post(client, "/admin/campaigns/new", {"template": "coming_soon", "audience": "unregistered"}))
    assert "1 person will be mailed." in client.get(f"{page_path}/send").get_data(as_text=True)
    refused = post(client, f"{page_path}/send", {"expected": "2"})           # a refresh changed it meanwhile
    assert location(refused) == f"{page_path}/send"
    again = client.get(location(refused)).get_data(as_text=True)
    assert "The audience has changed: it is now 1, not the 2 you confirmed." in again and "1 person will be mailed." in again
    campaign_id = int(page_path.rsplit("/", 1)[1])
    assert progress_of(app, campaign_id).total == 0                           # no recipient row was kept
    assert "Draft" in client.get(page_path).get_data(as_text=True)
    for odd in ("", "x", "-1", "1" * 30):
        assert location(post(client, f"{page_path}/send", {"expected": odd})) == f"{page_path}/send"
    time.sleep(0.3)
    assert mailbox.messages() == []


@pytest.fixture
def theme_dir(tmp_path: Path) -> Path:
    """A copy of the default theme, named `acme`, that tests give template overrides."""
    branding = tmp_path / "branding"
    shutil.copytree(PROJECT_ROOT / "branding" / "default", branding / "acme")
    (branding / "acme" / "theme.toml").write_text(
        (branding / "acme" / "theme.toml").read_text().replace('organization = "Your organization"',
                                                                 'organization = "Acme"'))
    (branding / "acme" / "templates" / "mail").mkdir(parents=True)
    return branding


def override(theme_dir: Path, name: str, text: str) -> None:
    (theme_dir / "acme" / "templates" / "mail" / name).write_text(text)


def render_in(app: Flask, template: str = "coming_soon") -> Any:
    with app.app_context():
        campaign = Campaign(template=template, audience="everybody", theme="acme")
        return campaigns.render(collaborators(app), campaign, to="x@example.test", name="Ada")


@pytest.fixture
def acme_app(admin_app: Callable[..., Flask], audience_people: dict[str, str], theme_dir: Path) -> Flask:
    return admin_app(environ={**directory_environ(OU), "PORTAL_THEME": "acme", "PORTAL_BRANDING_DIR": str(theme_dir)})


def test_the_theme_brands_the_mail_and_can_override_each_template(acme_app: Flask, theme_dir: Path) -> None:
    override(theme_dir, "campaign_coming_soon.txt",
             '{% extends "mail/base.txt" %}{% block body %}Acme news for {{ recipient_name }}: {{ register_url }}'
             '{% endblock %}')
    mail = render_in(acme_app)
    assert "Acme" in mail.subject                                # the theme's organization
    assert mail.text.startswith(f"Acme news for Ada: {BASE_URL}/register")
    assert "Need help? Contact" in mail.text                     # the built-in base still frames it
    assert "Acme news" not in render_in(acme_app, "available_now").text


def test_the_mail_shows_the_logo_and_links_to_the_host_that_serves_its_theme(
        admin_app: Callable[..., Flask], audience_people: dict[str, str], theme_dir: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "branding" / "default", theme_dir / "default")
    port = BASE_URL.rsplit(":", 1)[1]
    app = admin_app(environ={**directory_environ(OU), "PORTAL_BRANDING_DIR": str(theme_dir)},
                    tables=f'[hosts."localhost"]\ntheme = "acme"\n'
                           f'base_url = "http://localhost:{port}"')
    mail = render_in(app)
    assert f'<img src="http://localhost:{port}/static/logo.svg" alt=""' in mail.html     # the title is beside it
    assert f'href="http://localhost:{port}/' in mail.html and BASE_URL + "/" not in mail.html
    assert "background: #0F6CBD" in mail.html and mail.text.startswith("Hello Ada,")  # its colours; a text part
    served = app.test_client().get("/static/logo.svg", base_url=f"http://localhost:{port}")
    assert served.status_code == 200 and served.mimetype == "image/svg+xml"


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ brand.__class__.__init__.__globals__ }}",
    "{{ lipsum.__globals__.os.popen('id').read() }}",
])
def test_theme_templates_render_in_the_sandbox(acme_app: Flask, theme_dir: Path, attack: str) -> None:
    override(theme_dir, "campaign_coming_soon.txt", attack)
    with pytest.raises(SecurityError):
        render_in(acme_app)


def test_theme_templates_cannot_reach_the_portal_or_change_what_they_are_given(acme_app: Flask,
                                                                                theme_dir: Path) -> None:
    override(theme_dir, "campaign_coming_soon.txt", "[{{ config }}][{{ settings }}][{{ request }}][{{ session }}]")
    override(theme_dir, "campaign_available_now.txt", "{{ brand.links.append('x') }}")
    assert render_in(acme_app).text == "[][][][]"
    with pytest.raises(SecurityError):
        render_in(acme_app, "available_now")


def test_a_broken_theme_template_is_reported_on_the_page_not_as_a_crash(acme_app: Flask, theme_dir: Path) -> None:
    client = acme_app.test_client()
    sign_in(client, ADMIN)
    created = post(client, "/admin/campaigns/new", {"template": "coming_soon", "audience": "everybody"})
    override(theme_dir, "campaign_coming_soon.txt", "{{ ''.__class__.__mro__ }}")
    page = client.get(location(created))
    assert page.status_code == 200
    assert "could not be rendered" in page.get_data(as_text=True)


def test_sending_keeps_to_the_messages_per_minute_across_senders(audience_app: Callable[..., Flask]) -> None:
    app = audience_app(per_minute=2)
    c = collaborators(app)
    with app.app_context():
        campaign_id = campaigns.create(c, template="coming_soon", audience="everybody", group=None,
                                       theme="default", by="test")
        assert campaigns.start(c, campaign_id, by="test") == 3
        first, second = campaigns.Sender(c), campaigns.Sender(c)  # two processes
        assert [first.send_batch(campaign_id), second.send_batch(campaign_id), first.send_batch(campaign_id)] \
            == [1, 1, 0]                                   # the minute's two are used, whoever sent them
        with clock.travel(timedelta(seconds=61)):
            assert second.send_batch(campaign_id) == 1
            assert first.send_batch(campaign_id) is None   # nobody left: finished
        with c.store.transaction() as db:
            assert db.get(Campaign, campaign_id).status == campaigns.FINISHED


NAMES = ("Ada Lovelace", "Zoë <O'Brien> & \"Sons\"", "  Ada   Spaced  ", "")


@pytest.mark.parametrize("template", [
    None,                                                                    # the shipped template
    '{% extends "mail/base.txt" %}{% block body %}Hi {{ recipient_name.split()[0] if recipient_name }}, '
    '{{ recipient_name|upper }}{% endblock %}',                             # changes the name
    '{% extends "mail/base.txt" %}{% block body %}{% if recipient_name|length > 12 %}Dear colleague'
    '{% else %}Hi {{ recipient_name }}{% endif %}{% endblock %}',            # depends on its length
])
def test_a_batch_rendered_once_is_what_each_recipient_would_get_alone(acme_app: Flask, theme_dir: Path,
                                                                      template: str | None) -> None:
    if template is not None:
        override(theme_dir, "campaign_coming_soon.txt", template)
    with acme_app.app_context():
        campaign = Campaign(template="coming_soon", audience="everybody", theme="acme")
        c = collaborators(acme_app)
        fill = campaigns._form_mail(campaign, mail_links(c.settings))
        for name in NAMES:
            with use_theme(c.themes.themes["acme"]):
                alone = messages.render_mail("campaign_coming_soon", "x@example.test", recipient_name=name,
                                             audience="everybody", **mail_links(c.settings))
            assert fill("x@example.test", name) == alone
