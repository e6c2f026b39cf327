"""The outbox: mail and SMS are written to the database with the change they report, then delivered.

Why not send during the request: an SMTP server that is down must not lose a notification nor
fail a password change, and sending from the request would make response times tell whether an
account exists. So flows `enqueue_*` in their own transaction and a worker delivers:

- claiming is one conditional UPDATE per message (`status = pending` and no live lease), so any
  number of workers in any number of processes never send one message twice while they live;
  a worker that dies mid-send leaves a lease that expires, and the message is tried again
  (at-least-once: the lease must outlast the SMTP timeout, which the settings check);
- failures are retried with exponential back-off until `max_attempts`; a refusal (5xx, a
  gateway's 4xx) is final at once; a code that expired before it could be sent is dropped;
- mail queued with a `dedupe_key` (a campaign to one person, a day's reminder) is sent at most
  once even when a worker is killed mid-send: the row is marked sent at the SMTP "point of no
  return", after the server has the whole message and before the line that ends it. A worker
  that dies before that point leaves nothing at the server (the mail is sent again after the
  lease); one that dies after it has handed the mail over (it is not sent again). A worker
  whose lease ran out meanwhile finds its claim gone at that point and abandons the message;
- the content (recipient, text) is encrypted at rest and erased once the message is settled.

The worker runs in-process (a daemon thread that exists only while messages are pending) and/or
as `flask --app wsgi outbox run` for deployments that prefer a separate process.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import ColumnElement, delete, event, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.mail import Mail, MailError, MailSender, PermanentMailError, PointOfNoReturn, make_sender
from ...adapters.sms import PermanentSmsError, SmsError, SmsGateway, make_gateway
from ...settings import Settings
from ...settings.mail import OutboxSettings
from ...store import Store, rows_changed
from ...store.outbox import OutboxMessage
from ..security.crypto import InvalidToken, Sealer

log = logging.getLogger(__name__)

EMAIL, SMS = "email", "sms"
PENDING, SENT, FAILED, EXPIRED = "pending", "sent", "failed", "expired"
MAX_BACKOFF = timedelta(hours=1)
SEAL_PURPOSE = "outbox"


class ChannelUnavailable(Exception):
    """No mail server or SMS gateway is configured for this channel."""


class ClaimLost(Exception):
    """Another worker took the message over (this one's lease ran out): leave it to them."""


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    expired: int = 0
    skipped: int = 0  # claimed by another worker first

    def add(self, status: str) -> None:
        name = {SENT: "sent", PENDING: "retrying", FAILED: "failed", EXPIRED: "expired"}[status]
        setattr(self, name, getattr(self, name) + 1)


@dataclass
class _Claimed:
    id: int
    channel: str
    payload: str | None
    attempts: int
    expires_at: datetime | None
    token: str = field(default="")
    once: bool = False  # queued with a dedupe key: never twice (see the module docstring)


class Outbox:
    def __init__(self, store: Store, settings: OutboxSettings, secret_key: str,
                 mail: MailSender | None, sms: SmsGateway | None) -> None:
        self.store = store
        self.settings = settings
        self.mail = mail
        self.sms = sms
        self._sealer = Sealer(secret_key, SEAL_PURPOSE)
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._worker: threading.Thread | None = None

    # ---- queueing (inside the caller's transaction) ----

    def enqueue_mail(self, db: Session, mail: Mail, *, purpose: str, expires_at: datetime | None = None,
                     dedupe_key: str | None = None) -> bool:
        """Queue `mail`; False if `dedupe_key` was queued before (nothing added)."""
        if self.mail is None:
            raise ChannelUnavailable(EMAIL)
        payload = {"to": mail.to, "subject": mail.subject, "text": mail.text, "html": mail.html}
        return self._enqueue(db, EMAIL, payload, purpose, expires_at, dedupe_key)

    def enqueue_sms(self, db: Session, to: str, text: str, *, purpose: str, expires_at: datetime | None = None,
                    dedupe_key: str | None = None) -> bool:
        if self.sms is None:
            raise ChannelUnavailable(SMS)
        return self._enqueue(db, SMS, {"to": to, "text": text}, purpose, expires_at, dedupe_key)

    def _enqueue(self, db: Session, channel: str, payload: dict[str, str | None], purpose: str,
                 expires_at: datetime | None, dedupe_key: str | None) -> bool:
        now = clock.utcnow()
        row = OutboxMessage(channel=channel, purpose=purpose, payload=self._sealer.seal(json.dumps(payload)),
                            status=PENDING, attempts=0, created_at=now, next_attempt_at=now,
                            expires_at=expires_at, dedupe_key=dedupe_key)
        try:
            with db.begin_nested():
                db.add(row)
        except IntegrityError:
            if dedupe_key is None:
                raise
            return False
        if self.settings.in_process_worker:
            event.listen(db, "after_commit", lambda _session: self.wake(), once=True)
        return True

    # ---- delivering (any process, any number of workers) ----

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        report = DeliveryReport()
        with self.store.transaction() as db:
            ids = db.scalars(select(OutboxMessage.id).where(*_due(clock.utcnow()))
                             .order_by(OutboxMessage.id).limit(limit)).all()
        for message_id in ids:
            claimed = self._claim(message_id)
            if claimed is None:
                report.skipped += 1
                continue
            try:
                outcome = self._attempt(claimed)
            except ClaimLost:
                report.skipped += 1
                continue
            report.add(self._settle(claimed, *outcome))
        return report

    def _claim(self, message_id: int) -> _Claimed | None:
        now = clock.utcnow()
        token = secrets.token_hex(16)
        with self.store.transaction() as db:
            won = rows_changed(db, update(OutboxMessage).where(OutboxMessage.id == message_id, *_due(now))
                               .values(claim_token=token,
                                       claimed_until=now + timedelta(seconds=self.settings.lease_seconds)))
            if won != 1:
                return None
            row = db.get(OutboxMessage, message_id)
            assert row is not None
            return _Claimed(row.id, row.channel, row.payload, row.attempts, row.expires_at, token,
                            once=row.dedupe_key is not None)

    def _attempt(self, claimed: _Claimed) -> tuple[str, str | None]:
        """Try to send; (new status, error for the log and the row)."""
        if claimed.expires_at is not None and clock.as_utc(claimed.expires_at) <= clock.utcnow():
            return EXPIRED, None
        try:
            payload = json.loads(self._sealer.unseal(claimed.payload or ""))
        except (InvalidToken, ValueError):
            return FAILED, "content unreadable (secret_key changed?)"
        handed_over = False

        def point_of_no_return() -> None:
            nonlocal handed_over
            self._mark_sent(claimed)
            handed_over = True

        try:
            self._send(claimed.channel, payload, point_of_no_return if claimed.once else None)
        except (PermanentMailError, PermanentSmsError) as error:
            return FAILED, str(error)
        except (MailError, SmsError, ChannelUnavailable) as error:
            if handed_over:
                return SENT, f"no answer after the message was handed over, not sent again: {error}"
            if claimed.attempts + 1 >= self.settings.max_attempts:
                return FAILED, f"gave up after {claimed.attempts + 1} attempts: {error}"
            return PENDING, str(error) or type(error).__name__
        return SENT, None

    def _send(self, channel: str, payload: dict[str, str], point_of_no_return: PointOfNoReturn | None) -> None:
        if channel == EMAIL:
            if self.mail is None:
                raise ChannelUnavailable(EMAIL)
            self.mail.send(Mail(payload["to"], payload["subject"], payload["text"], payload.get("html")),
                           point_of_no_return)
        else:
            if self.sms is None:
                raise ChannelUnavailable(SMS)
            self.sms.send(payload["to"], payload["text"])

    def _mark_sent(self, claimed: _Claimed) -> None:
        """Record the mail as sent while this worker still holds it; ClaimLost if it does not."""
        with self.store.transaction() as db:
            held = rows_changed(db, update(OutboxMessage)
                                .where(OutboxMessage.id == claimed.id, OutboxMessage.claim_token == claimed.token,
                                       OutboxMessage.status == PENDING)
                                .values(status=SENT, sent_at=clock.utcnow(), payload=None))
        if held != 1:
            raise ClaimLost(claimed.id)

    def _settle(self, claimed: _Claimed, status: str, error: str | None) -> str:
        now = clock.utcnow()
        attempts = claimed.attempts + (status != EXPIRED)
        values: dict[str, object] = {"status": status, "attempts": attempts, "claim_token": None,
                                     "claimed_until": None, "last_error": error[:255] if error else None}
        if status == PENDING:
            values["next_attempt_at"] = now + self._backoff(attempts)
        else:
            values["payload"] = None
            values["sent_at"] = now if status == SENT else None
        with self.store.transaction() as db:
            db.execute(update(OutboxMessage)
                       .where(OutboxMessage.id == claimed.id, OutboxMessage.claim_token == claimed.token)
                       .values(**values))
        level = logging.WARNING if error else logging.INFO
        log.log(level, "outbox message %s: %s", claimed.id, status,
                extra={"outbox_id": claimed.id, "channel": claimed.channel, "status": status, "error": error})
        return status

    def _backoff(self, attempts: int) -> timedelta:
        return min(timedelta(seconds=self.settings.retry_seconds * 2 ** (attempts - 1)), MAX_BACKOFF)

    def seconds_until_due(self) -> float | None:
        """How long until the next pending message is due (0 = now); None when nothing is pending."""
        with self.store.transaction() as db:
            earliest = db.scalar(select(func.min(func.coalesce(OutboxMessage.claimed_until,
                                                               OutboxMessage.next_attempt_at)))
                                 .where(OutboxMessage.status == PENDING))
        if earliest is None:
            return None
        return max(0.0, (clock.as_utc(earliest) - clock.utcnow()).total_seconds())

    def purge(self, older_than: timedelta) -> int:
        """Forget settled messages (their content is gone already; this trims the table)."""
        with self.store.transaction() as db:
            return rows_changed(db, delete(OutboxMessage).where(
                OutboxMessage.status != PENDING, OutboxMessage.created_at < clock.utcnow() - older_than))

    # ---- the in-process worker ----

    def after_fork(self) -> None:
        """In a new worker process: the parent's worker thread does not exist here, and its lock
        may have been held at the fork; start from nothing (the next message wakes a thread)."""
        self._lock = threading.Lock()
        self._wakeup = threading.Event()
        self._worker = None

    def wake(self) -> None:
        """Deliver soon: start the worker thread if none is running, else nudge it."""
        with self._lock:
            self._wakeup.set()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=_work, args=(weakref.ref(self),), daemon=True,
                                                name="outbox-worker")
                self._worker.start()

    def run(self, stop: threading.Event) -> None:
        """The loop of a dedicated worker process (`outbox run`), until `stop` is set."""
        while not stop.is_set():
            stop.wait(self._pause(self._round()))

    def _round(self) -> float | None:
        """Deliver what is due; seconds until the next message is due (None: nothing pending)."""
        try:
            self.deliver_due()
            return self.seconds_until_due()
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            log.exception("outbox delivery round failed")
            return float(self.settings.poll_seconds)

    def _pause(self, wait: float | None) -> float:
        return min(wait if wait is not None else float(self.settings.poll_seconds), self.settings.poll_seconds)


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))


def _work(ref: weakref.ref[Outbox]) -> None:
    """Deliver until nothing is pending, then end; holds the outbox only weakly, so a discarded
    app (tests build many) does not keep a thread polling its database forever."""
    while True:
        outbox = ref()
        if outbox is None:
            return
        outbox._wakeup.clear()
        wait = outbox._round()
        wakeup, pause = outbox._wakeup, outbox._pause(wait)
        with outbox._lock:
            if wait is None and not wakeup.is_set():
                outbox._worker = None
                return
        del outbox
        wakeup.wait(pause)


def init_app(app: Flask, settings: Settings, store: Store) -> Outbox:
    """The app's outbox, with whichever channels settings configure."""
    outbox = Outbox(store, settings.outbox, app.config["SECRET_KEY"], make_sender(settings.mail),
                    make_gateway(settings.sms))
    app.extensions["outbox"] = outbox
    return outbox
