"""Adoption campaigns: a branded mail to an audience, sent at a steady rate, resumable, never twice.

Lifecycle: a campaign is created as a draft (template, audience, optional group, theme); it can
be previewed and test-sent to its author; `start` fixes the audience by writing one recipient
row per person (recipients come only from the directory, with the address the directory
holds); `Sender.run` then works through the pending rows until none is left.

Never twice: a recipient row goes from `pending` to `queued` by a conditional UPDATE in the
same transaction that puts the mail in the outbox, under the outbox's unique dedupe key
`campaign:<id>:<directory id>`. A sender that crashes loses its open transaction (the row stays
pending, nothing was queued); any number of senders in any number of processes can resume
without queueing anyone twice; delivery is the outbox's job (it claims each message atomically).

Throttle: at most `campaigns.messages_per_minute` rows are queued per sliding minute across
all campaigns and processes (counted in the database), in small evenly spaced batches.

The steps (`overview` to `recipients_csv`) take the app's Collaborators and open their own
transaction: the admin pages and the CLI call them alike, and so can a test, without a request.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as _
from jinja2 import TemplateError
from sqlalchemy import ColumnElement, Select, String, func, insert, literal, select, true, update
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.mail import Mail
from ...branding import use_theme
from ...settings import Settings
from ...store import rows_changed
from ...store.campaigns import Campaign, CampaignRecipient
from ...store.outbox import OutboxMessage
from ...store.standings import PersonStanding
from ..container import Collaborators
from ..messaging import languages, messages
from ..messaging.links import mail_links
from ..messaging.outbox import EXPIRED, FAILED, SENT, ChannelUnavailable
from ..messaging.outbox import PENDING as OUTBOX_PENDING
from ..reporting.csv_export import Cell, rows_as_csv
from ..security import audit
from . import population

log = logging.getLogger(__name__)

TEMPLATES = ("coming_soon", "available_now", "signup_reminder")
EVERYBODY, UNREGISTERED, RECONFIRM_DUE = "everybody", "unregistered", "reconfirm_due"
AUDIENCES = (EVERYBODY, UNREGISTERED, RECONFIRM_DUE)
DRAFT, SENDING, FINISHED = "draft", "sending", "finished"
PENDING, QUEUED = "pending", "queued"
PURPOSE, TEST_PURPOSE = "campaign", "campaign-test"
MAX_BATCH = 1000  # recipients queued per transaction (at most a second's worth)
STALLED_AFTER = timedelta(minutes=2)
RECIPIENTS_HEADER = ("username", "name", "email", "template", "queued_at", "delivery", "delivered_at")


class CampaignError(Exception):
    """A request the campaign's state does not allow; the message is for the administrator."""


class NoSuchCampaign(LookupError):
    """No campaign has that number."""


class AlreadyStarted(CampaignError):
    """Someone started the campaign before (a second "send", or two at once)."""


class AudienceChanged(CampaignError):
    """The audience is not the size the administrator confirmed (a refresh ran in between):
    nothing was started, they are asked again with the new number."""


@dataclass(frozen=True)
class Progress:
    total: int
    pending: int      # not queued yet
    waiting: int      # in the outbox, not delivered yet
    delivered: int
    failed: int       # refused by the mail server, or given up after retries
    unrecorded: int   # queued, but the outbox has purged its record since

    @property
    def done(self) -> bool:
        return self.pending == 0 and self.waiting == 0


class CampaignRow(NamedTuple):
    campaign: Campaign
    progress: Progress


@dataclass(frozen=True)
class CampaignPage:
    """What a campaign's admin page shows; the preview is as the viewing administrator gets it."""

    campaign: Campaign
    audience_size: int | None       # drafts only: how many people it would reach now
    counted_at: datetime | None     # when the standings the audience comes from were refreshed
    progress: Progress
    stalled: bool
    preview: Mail | None
    template_problem: str | None    # why the preview could not be rendered (IT's own template)


def dedupe_key(campaign_id: int, directory_id: str) -> str:
    return f"campaign:{campaign_id}:{directory_id}"


# ---- steps: each opens its own transaction ----

def overview(c: Collaborators) -> list[CampaignRow]:
    """Every campaign, newest first, with its progress."""
    with c.store.transaction() as db:
        return [CampaignRow(campaign, progress(db, campaign.id))
                for campaign in db.scalars(select(Campaign).order_by(Campaign.id.desc()))]


def create(c: Collaborators, *, template: str, audience: str, group: str | None, theme: str, by: str) -> int:
    """A new draft; its number."""
    if template not in TEMPLATES:
        raise CampaignError(_("The template must be one of %(allowed)s.", allowed=", ".join(TEMPLATES)))
    if audience not in AUDIENCES:
        raise CampaignError(_("The audience must be one of %(allowed)s.", allowed=", ".join(AUDIENCES)))
    with c.store.transaction() as db:
        campaign = Campaign(template=template, audience=audience, group=(group or "").strip()[:255] or None,
                            theme=theme, status=DRAFT, created_by=by, created_at=clock.utcnow())
        db.add(campaign)
        db.flush()
        audit.record(db, "campaign.created", audit.SUCCESS, username=by,
                     details={"campaign": campaign.id, "template": template, "audience": audience,
                              "group": campaign.group})
        return campaign.id


def page(c: Collaborators, campaign_id: int, *, viewer_email: str | None, viewer_name: str) -> CampaignPage:
    """Raises NoSuchCampaign."""
    with c.store.transaction() as db:
        campaign = _campaign(db, campaign_id)
        size = audience_size(db, c.settings, campaign) if campaign.status == DRAFT else None
        found, counted_at = progress(db, campaign_id), population.last_refresh(db)
    try:
        preview, problem = render(c, campaign, to=viewer_email or "", name=viewer_name), None
    except TemplateError as error:  # IT's own template: tell them what is wrong with it
        preview, problem = None, f"{type(error).__name__}: {error}"
    return CampaignPage(campaign, size, counted_at, found, stalled(campaign), preview, problem)


@dataclass(frozen=True)
class SendConfirmation:
    """What the administrator confirms before a draft goes out: how many people it mails now."""

    campaign: Campaign
    audience_size: int
    counted_at: datetime | None


def confirmation(c: Collaborators, campaign_id: int) -> SendConfirmation:
    """Counted in SQL from the audience query, like `start` will fix it. Raises NoSuchCampaign,
    AlreadyStarted once the campaign is no draft."""
    with c.store.transaction() as db:
        campaign = _campaign(db, campaign_id)
        if campaign.status != DRAFT:
            raise AlreadyStarted("this campaign has already been started")
        return SendConfirmation(campaign, audience_size(db, c.settings, campaign), population.last_refresh(db))


def preview(c: Collaborators, campaign_id: int, *, to: str, name: str) -> Mail:
    """The mail as `to` would get it. Raises NoSuchCampaign, or TemplateError from IT's template."""
    with c.store.transaction() as db:
        campaign = _campaign(db, campaign_id)
    return render(c, campaign, to=to, name=name)


def send_test(c: Collaborators, campaign_id: int, *, to: str | None, name: str, by: str) -> bool:
    """The author sees exactly what recipients will get, in their own mailbox; False when they have
    no address to send it to. Raises NoSuchCampaign, ChannelUnavailable (no mail server)."""
    with c.store.transaction() as db:
        campaign = _campaign(db, campaign_id)
        if not to:
            return False
        c.outbox.enqueue_mail(db, render(c, campaign, to=to, name=name, test=True), purpose=TEST_PURPOSE)
        audit.record(db, "campaign.test_sent", audit.SUCCESS, username=by, details={"campaign": campaign.id})
    return True


def start(c: Collaborators, campaign_id: int, *, by: str, expected: int | None = None) -> int:
    """Fix the audience and mark the campaign as sending; the number of recipients. Raises
    NoSuchCampaign, AlreadyStarted, CampaignError before the first `reports refresh`, and
    AudienceChanged (all undone) when `expected`, the number the administrator confirmed, is not
    how many it would mail.

    The conditional UPDATE makes two administrators pressing "send" at once start it once; the
    audience is written by one INSERT ... SELECT from the standings (fix_audience).
    """
    with c.store.transaction() as db:
        campaign = _campaign(db, campaign_id)
        if campaign.status != DRAFT:
            raise AlreadyStarted(_("This campaign has already been started."))
        if population.last_refresh(db) is None:
            raise CampaignError(_("The people have not been counted yet: run `%(command)s` (audiences come "
                                  "from its standings).", command="flask --app wsgi reports refresh"))
        won = rows_changed(db, update(Campaign).where(Campaign.id == campaign_id, Campaign.status == DRAFT)
                           .values(status=SENDING, started_at=clock.utcnow(), started_by=by))
        if won != 1:
            raise AlreadyStarted(_("This campaign has already been started."))
        count = fix_audience(db, c.settings, campaign)
        if expected is not None and count != expected:  # raising rolls the claim and the rows back
            raise AudienceChanged(_("The audience has changed: it is now %(count)d, not the %(expected)d you "
                                    "confirmed. Nothing was sent; check the number and confirm again.",
                                    count=count, expected=expected))
        audit.record(db, "campaign.started", audit.SUCCESS, username=by,
                     details={"campaign": campaign_id, "recipients": count})
    return count


def start_in_background(c: Collaborators, app: Flask, campaign_id: int, *, by: str,
                        expected: int | None = None) -> int:
    """`start`, then send from a thread of this web process (the admin page). Raises what `start`
    raises, and ChannelUnavailable before anything when no mail server is configured."""
    with c.store.transaction() as db:
        _campaign(db, campaign_id)
    if not c.settings.mail.configured:
        raise ChannelUnavailable("email")
    count = start(c, campaign_id, by=by, expected=expected)
    send_in_background(app, c, campaign_id)
    return count


def resume_in_background(c: Collaborators, app: Flask, campaign_id: int) -> bool:
    """Carry on sending a stalled campaign; False when it is not stalled. Raises NoSuchCampaign."""
    with c.store.transaction() as db:
        campaign = _campaign(db, campaign_id)
    if not stalled(campaign):
        return False
    send_in_background(app, c, campaign_id)
    return True


def current_progress(c: Collaborators, campaign_id: int) -> Progress:
    """Raises NoSuchCampaign."""
    with c.store.transaction() as db:
        _campaign(db, campaign_id)
        return progress(db, campaign_id)


def recipients_csv(c: Collaborators, campaign_id: int) -> Iterator[str]:
    """Who was sent what and when, as CSV lines read while they are sent. Raises NoSuchCampaign
    now, before the first line."""
    with c.store.transaction() as db:
        campaign = _campaign(db, campaign_id)

    def lines() -> Iterator[str]:
        with c.store.transaction() as db:
            yield from rows_as_csv(RECIPIENTS_HEADER, recipient_rows(db, campaign))
    return lines()


# ---- audiences and rendering ----

def _campaign(db: Session, campaign_id: int) -> Campaign:
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise NoSuchCampaign("no such campaign")
    return campaign


def audience(settings: Settings, campaign: Campaign) -> Select[PersonStanding]:
    """Who the campaign goes to now: people in scope, in its audience, with a mail address.

    A query on the standings (population.py), not a list: the page counts it and `start` copies
    it into the recipient rows inside the database, whatever the size of the organization. People
    the directory gained since the last `reports refresh` are not in it until the next one."""
    wanted: dict[str, ColumnElement[bool]] = {
        EVERYBODY: true(),
        UNREGISTERED: PersonStanding.registered.is_(False),
        RECONFIRM_DUE: population.reconfirm_due(settings, clock.utcnow()),
    }
    return (select(PersonStanding).where(population.scope(campaign.group), PersonStanding.email.is_not(None),
                                         PersonStanding.email != "", wanted[campaign.audience])
            .order_by(PersonStanding.login, PersonStanding.directory_id))


def audience_size(db: Session, settings: Settings, campaign: Campaign) -> int:
    return db.scalar(select(func.count()).select_from(audience(settings, campaign).order_by(None).subquery())) or 0


def fix_audience(db: Session, settings: Settings, campaign: Campaign) -> int:
    """One pending recipient row per person in the audience now, written by INSERT ... SELECT; how many."""
    people = audience(settings, campaign).subquery()
    rows = select(literal(campaign.id), people.c.directory_id, people.c.login,
                  func.substr(people.c.display_name, 1, 255), people.c.email, literal(PENDING))
    db.execute(insert(CampaignRecipient).from_select(
        ["campaign_id", "directory_id", "username", "display_name", "email", "status"], rows))
    # counted afterwards: psycopg reports no row count for INSERT ... SELECT (-1), and the
    # campaign had no recipients before (only the start that won the DRAFT claim gets here)
    return db.scalar(select(func.count()).where(CampaignRecipient.campaign_id == campaign.id)) or 0


def render(c: Collaborators, campaign: Campaign, *, to: str, name: str, test: bool = False) -> Mail:
    """The campaign's mail for one person, in the campaign's theme, linking to its host. A `test`
    mail says so in its subject and at the top of both parts (mail/base.*), so nobody who gets
    it forwarded takes it for the real announcement."""
    with use_theme(c.themes.themes[campaign.theme]):
        links = mail_links(c.settings, c.settings.theme_base_url(campaign.theme))
        mail = _form_mail(campaign, links, test)(to, name)
    return dataclasses.replace(mail, subject=_("[Test] %(subject)s", subject=mail.subject)) if test else mail


def _form_mail(campaign: Campaign, links: dict[str, str], test: bool = False) -> Callable[[str, str], Mail]:
    """The campaign's mail for any number of people (rendered once), in the theme selected around the call."""
    return messages.form_mail(f"campaign_{campaign.template}", "recipient_name", audience=campaign.audience,
                              test_message=test, **links)


# ---- sending ----

class Sender:
    """Queues a sending campaign's pending recipients at the configured rate until none is left."""

    def __init__(self, c: Collaborators) -> None:
        self.c = c
        per_minute = c.settings.campaigns.messages_per_minute
        self.batch = max(1, min(MAX_BATCH, per_minute // 60))
        self.pause = self.batch * 60 / per_minute

    def run(self, campaign_id: int, stop: threading.Event | None = None,
            on_batch: Callable[[int], None] | None = None) -> bool:
        """Send until finished (True) or told to stop (False). Needs an app context (templates).
        Batches start `pause` apart, however long each took, so the rate is the configured one."""
        stop = stop or threading.Event()
        due = time.monotonic()
        while not stop.is_set():
            queued = self.send_batch(campaign_id)
            if queued is None:
                return True
            if on_batch is not None and queued:
                on_batch(queued)
            due = self._next(due, queued)
            stop.wait(max(0.0, due - time.monotonic()))
        return False

    def _next(self, due: float, queued: int) -> float:
        """When the next batch starts: `pause` after this one's start when it was full, at once
        when it was not (the campaign is probably done), a while when the minute was used up."""
        if queued == self.batch:
            return max(due + self.pause, time.monotonic())
        return time.monotonic() + (min(self.pause, 1.0) if queued == 0 else 0.0)

    def send_batch(self, campaign_id: int) -> int | None:
        """Queue one batch within the throttle: how many were queued (0: the minute's allowance is
        used up), or None once nothing is left to send (the campaign is then finished)."""
        now = clock.utcnow()
        with self.c.store.transaction() as db:
            campaign = db.get(Campaign, campaign_id)
            if campaign is None or campaign.status != SENDING:
                return None
            campaign.sender_seen_at = now
            allowed = min(self.batch, self._allowance(db, now))
            ids = list(db.scalars(select(CampaignRecipient.id)
                                  .where(CampaignRecipient.campaign_id == campaign_id,
                                         CampaignRecipient.status == PENDING)
                                  .order_by(CampaignRecipient.id).limit(max(allowed, 1))
                                  .with_for_update(skip_locked=True)))
            if not ids:
                if db.scalar(select(CampaignRecipient.id).where(CampaignRecipient.campaign_id == campaign_id,
                                                                CampaignRecipient.status == PENDING).limit(1)):
                    return 0  # another sender is queueing the rest right now
                campaign.status, campaign.finished_at = FINISHED, now
                audit.record(db, "campaign.finished", audit.SUCCESS, username=campaign.started_by,
                             details={"campaign": campaign_id})
                return None
            if allowed <= 0:
                return 0
            return self._queue(db, campaign, ids, now)

    def _allowance(self, db: Session, now: datetime) -> int:
        """Messages still allowed in the current sliding minute, counted across every process."""
        used = db.scalar(select(func.count()).select_from(CampaignRecipient)
                         .where(CampaignRecipient.queued_at > now - timedelta(minutes=1))) or 0
        return self.c.settings.campaigns.messages_per_minute - used

    def _queue(self, db: Session, campaign: Campaign, ids: list[int], now: datetime) -> int:
        """Turn the rows still pending among `ids` into queued mail: one UPDATE, one INSERT, the
        templates rendered once per language. Rows another sender took meanwhile are left out."""
        taken = db.execute(update(CampaignRecipient)
                           .where(CampaignRecipient.id.in_(ids), CampaignRecipient.status == PENDING)
                           .values(status=QUEUED, queued_at=now)
                           .returning(CampaignRecipient.directory_id, CampaignRecipient.email,
                                      CampaignRecipient.display_name)
                           .execution_options(synchronize_session=False)).all()
        spoken = languages.for_people(db, [directory_id for directory_id, _email, _name in taken])
        links = mail_links(self.c.settings, self.c.settings.theme_base_url(campaign.theme))
        fills: dict[str, Callable[[str, str], Mail]] = {}
        mails = []
        with use_theme(self.c.themes.themes[campaign.theme]):
            for directory_id, email, name in taken:
                language = spoken[directory_id]
                with force_locale(language):  # each person's language; the templates rendered once per language
                    if language not in fills:
                        fills[language] = _form_mail(campaign, links)
                    mails.append((fills[language](email, name), dedupe_key(campaign.id, directory_id)))
        self.c.outbox.enqueue_mails(db, mails, purpose=PURPOSE)
        return len(mails)


def send_in_background(app: Flask, c: Collaborators, campaign_id: int) -> threading.Thread:
    """Send from a thread of this web process; a restart leaves the campaign "stalled" with its
    remaining recipients pending, and "resume" (or the CLI) carries on."""
    def work() -> None:
        with app.app_context():
            try:
                Sender(c).run(campaign_id)
            except Exception:  # the page shows the campaign as stalled; the log says why
                log.exception("campaign %s: sending stopped", campaign_id)

    thread = threading.Thread(target=work, daemon=True, name=f"campaign-{campaign_id}")
    thread.start()
    return thread


# ---- what happened ----

def progress(db: Session, campaign_id: int) -> Progress:
    by_status = dict(db.execute(select(CampaignRecipient.status, func.count())
                                .where(CampaignRecipient.campaign_id == campaign_id)
                                .group_by(CampaignRecipient.status)).all())
    delivery = dict(db.execute(select(OutboxMessage.status, func.count())
                               .where(OutboxMessage.dedupe_key.like(f"campaign:{campaign_id}:%"))
                               .group_by(OutboxMessage.status)).all())
    queued = by_status.get(QUEUED, 0)
    waiting, delivered = delivery.get(OUTBOX_PENDING, 0), delivery.get(SENT, 0)
    failed = delivery.get(FAILED, 0) + delivery.get(EXPIRED, 0)
    return Progress(total=queued + by_status.get(PENDING, 0), pending=by_status.get(PENDING, 0),
                    waiting=waiting, delivered=delivered, failed=failed,
                    unrecorded=max(0, queued - waiting - delivered - failed))


def stalled(campaign: Campaign) -> bool:
    """Sending, but no sender has shown a sign of life for a while (a crash or a restart)."""
    seen = campaign.sender_seen_at or campaign.started_at
    return campaign.status == SENDING and (seen is None or clock.utcnow() - clock.as_utc(seen) > STALLED_AFTER)


def recipient_rows(db: Session, campaign: Campaign) -> Iterator[tuple[Cell, ...]]:
    """Who was sent what and when, for the CSV export."""
    key = literal(f"campaign:{campaign.id}:", String) + CampaignRecipient.directory_id
    query = (select(CampaignRecipient, OutboxMessage.status, OutboxMessage.sent_at)
             .outerjoin(OutboxMessage, OutboxMessage.dedupe_key == key)
             .where(CampaignRecipient.campaign_id == campaign.id).order_by(CampaignRecipient.id)
             .execution_options(yield_per=500))
    for recipient, delivery, sent_at in db.execute(query):
        status = delivery or ("not queued yet" if recipient.status == PENDING else "record purged")
        yield (recipient.username, recipient.display_name, recipient.email, campaign.template,
               recipient.queued_at, status, sent_at)
