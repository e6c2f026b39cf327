"""The outbox: mail, SMS and webhooks are written to the database with the change they report, then delivered.

Why not send during the request: an SMTP server that is down must not lose a notification nor
fail a password change, and sending from the request would make response times tell whether an
account exists. So flows `enqueue_*` in their own transaction and a worker delivers:

- claiming takes a batch of due messages in one conditional UPDATE (`status = pending` and no
  live lease; SKIP LOCKED on PostgreSQL, so workers take different batches instead of waiting
  on each other), so any number of workers in any number of processes never send one message
  twice while they live; a worker that dies mid-send leaves a lease that expires, and the
  message is tried again (at-least-once: the lease must outlast the SMTP timeout, which the
  settings check; a worker starts no message of a batch after half its lease);
- each worker runs `delivery_threads` threads; each keeps one connection to the mail server for
  all its batches and writes a batch's outcomes in one transaction;
- failures are retried with exponential back-off until `max_attempts`; a refusal (5xx, a
  gateway's 4xx) is final at once; a code that expired before it could be sent is dropped;
- mail queued with a `dedupe_key` (a campaign to one person, a day's reminder) is sent at most
  once even when a worker is killed mid-send: the row is marked sent at the SMTP "point of no
  return", after the server has the whole message and before the line that ends it (one
  transaction per such mail: the price of "never twice"). A worker
  that dies before that point leaves nothing at the server (the mail is sent again after the
  lease); one that dies after it has handed the mail over (it is not sent again). A worker
  whose lease ran out meanwhile finds its claim gone at that point and abandons the message;
- the content (recipient, text) is encrypted at rest and erased once the message is settled;
- a webhook (channel "webhook", one row per endpoint and event, its dedupe key made of both) is
  queued once and marked sent as soon as the endpoint answered 2xx (the same group commit as a
  mail's point of no return). HTTP has no point of no return before the answer, so a worker
  killed while it waits for one sends that event again after the lease, with the same id and
  body, and the receiver de-duplicates by `webhook-id` (Standard Webhooks): each endpoint keeps
  each event once. The endpoint's secret is read from settings when it is sent, never stored.

The worker runs in-process (a daemon thread that exists only while messages are pending) and/or
as `flask --app wsgi outbox run` for deployments that prefer a separate process.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import TypeVar, cast

from flask import Flask
from sqlalchemy import ColumnElement, Table, bindparam, delete, event, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ... import clock
from ...adapters.mail import Mail, MailError, MailSender, MailSession, PermanentMailError, PointOfNoReturn, make_sender
from ...adapters.sms import PermanentSmsError, SmsError, SmsGateway, make_gateway
from ...adapters.webhooks import WebhookError
from ...adapters.webhooks import post as post_webhook
from ...settings import Settings
from ...settings.mail import OutboxSettings
from ...settings.webhooks import WebhookEndpoint
from ...store import Store, rows_changed
from ...store.outbox import OutboxMessage
from ..security.crypto import InvalidToken, Sealer

log = logging.getLogger(__name__)

EMAIL, SMS, WEBHOOK = "email", "sms", "webhook"
PENDING, SENT, FAILED, EXPIRED = "pending", "sent", "failed", "expired"
MAX_BACKOFF = timedelta(hours=1)
SEAL_PURPOSE = "outbox"
BATCH = 50  # messages one delivery thread claims per transaction
ROUND = 10_000  # messages a worker's round delivers before it looks again (keeping its connections)
T = TypeVar("T")


class ChannelUnavailable(Exception):
    """No mail server or SMS gateway is configured for this channel."""


class EndpointRemoved(Exception):
    """A webhook's endpoint is no longer in the settings: nobody to deliver it to."""


class ClaimLost(Exception):
    """Another worker took the message over (this one's lease ran out): leave it to them."""


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    expired: int = 0
    skipped: int = 0  # taken over by another worker

    def add(self, status: str) -> None:
        name = {SENT: "sent", PENDING: "retrying", FAILED: "failed", EXPIRED: "expired"}[status]
        setattr(self, name, getattr(self, name) + 1)

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass
class _Claimed:
    id: int
    channel: str
    payload: str | None
    attempts: int
    expires_at: datetime | None
    token: str
    once: bool  # queued with a dedupe key: never twice (see the module docstring)
    start_before: datetime  # not started later than this, so it cannot outlive the lease


class _Budget:
    """How many messages the delivery threads of one `deliver_due` may still claim, together."""

    def __init__(self, limit: int) -> None:
        self._left = limit
        self._lock = threading.Lock()

    def take(self, wanted: int) -> int:
        with self._lock:
            granted = min(wanted, self._left)
            self._left -= granted
            return granted

    def give_back(self, unused: int) -> None:
        with self._lock:
            self._left += unused


class Outbox:
    def __init__(self, store: Store, settings: OutboxSettings, secret_key: str,
                 mail: MailSender | None, sms: SmsGateway | None,
                 webhooks: Sequence[WebhookEndpoint] = ()) -> None:
        self.store = store
        self.settings = settings
        self.mail = mail
        self.sms = sms
        self.webhooks = {endpoint.url: endpoint for endpoint in webhooks}
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
        return self._enqueue(db, EMAIL, _mail_payload(mail), purpose, expires_at, dedupe_key)

    def enqueue_sms(self, db: Session, to: str, text: str, *, purpose: str, expires_at: datetime | None = None,
                    dedupe_key: str | None = None) -> bool:
        if self.sms is None:
            raise ChannelUnavailable(SMS)
        return self._enqueue(db, SMS, {"to": to, "text": text}, purpose, expires_at, dedupe_key)

    def enqueue_webhook(self, db: Session, url: str, *, event: str, message_id: str, body: str) -> bool:
        """Queue the event `message_id` (JSON `body`) for the endpoint at `url`; False if it was
        queued for that endpoint before (each endpoint gets each event once)."""
        key = f"webhook:{message_id}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"
        return self._enqueue(db, WEBHOOK, {"url": url, "id": message_id, "body": body}, event, None, key,
                             endpoint=url)

    def enqueue_mails(self, db: Session, mails: Sequence[tuple[Mail, str]], *, purpose: str) -> None:
        """Queue many mails at once, each under its dedupe key (a campaign's batch): one INSERT;
        a key queued before keeps its first mail."""
        if self.mail is None:
            raise ChannelUnavailable(EMAIL)
        if not mails:
            return
        now = clock.utcnow()
        rows = [self._row(EMAIL, _mail_payload(mail), purpose, now, None, key) for mail, key in mails]
        dialect = db.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        db.execute(insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)
        self._wake_after_commit(db)

    def _enqueue(self, db: Session, channel: str, payload: dict[str, str | None], purpose: str,
                 expires_at: datetime | None, dedupe_key: str | None, *, endpoint: str | None = None) -> bool:
        """One message; a dedupe key queued before keeps its first one (False). Only a dedupe key
        can conflict, so only a keyed message pays for a savepoint (and its own flush)."""
        row = OutboxMessage(**self._row(channel, payload, purpose, clock.utcnow(), expires_at, dedupe_key),
                            endpoint=endpoint)
        if dedupe_key is None:
            db.add(row)
        else:
            try:
                with db.begin_nested():
                    db.add(row)
            except IntegrityError:
                return False
        self._wake_after_commit(db)
        return True

    def _row(self, channel: str, payload: dict[str, str | None], purpose: str, now: datetime,
             expires_at: datetime | None, dedupe_key: str | None) -> dict[str, object]:
        return {"channel": channel, "purpose": purpose, "payload": self._sealer.seal(json.dumps(payload)),
                "status": PENDING, "attempts": 0, "created_at": now, "next_attempt_at": now,
                "expires_at": expires_at, "dedupe_key": dedupe_key}

    def _wake_after_commit(self, db: Session) -> None:
        if self.settings.in_process_worker:
            event.listen(db, "after_commit", lambda _session: self.wake(), once=True)

    # ---- delivering (any process, any number of workers) ----

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        """Deliver up to `limit` due messages with [outbox] delivery_threads threads, each claiming
        batches and sending them over its own connection to the mail server."""
        budget = _Budget(limit)
        threads = max(1, min(self.settings.delivery_threads, -(-limit // BATCH)))
        with _quick_commits(self.store.engine) as connection:
            marks = _Marks(connection)
            reports = _in_threads(threads, lambda: self._deliver_batches(budget, marks))
        return sum(reports, DeliveryReport())

    def _deliver_batches(self, budget: _Budget, marks: _Marks) -> DeliveryReport:
        """Claim, send and settle batches until nothing is due or the budget is spent."""
        report = DeliveryReport()
        with self.mail.session() if self.mail is not None else nullcontext(None) as mail:
            while (wanted := budget.take(BATCH)) > 0:
                batch = self._claim_batch(wanted)
                budget.give_back(wanted - len(batch or ()))
                if batch is None:
                    break
                outcomes = [self._attempt(claimed, mail, marks) for claimed in batch]
                settled = self._settle_batch(batch, outcomes)
                log.info("outbox batch: %s sent, %s to retry, %s failed, %s expired, %s taken over", settled.sent,
                         settled.retrying, settled.failed, settled.expired, settled.skipped, extra=asdict(settled))
                report += settled
        return report

    def _claim_batch(self, size: int) -> list[_Claimed] | None:
        """Up to `size` due messages, in one transaction; None when nothing is due. Rows another
        worker is claiming are skipped (SKIP LOCKED on PostgreSQL; SQLite has one writer at a
        time, and the conditional UPDATE leaves out what another took since the SELECT)."""
        now = clock.utcnow()
        token = secrets.token_hex(16)
        lease = timedelta(seconds=self.settings.lease_seconds)
        with self.store.transaction() as db:
            # two statements: PostgreSQL may run a LIMIT ... FOR UPDATE subquery of an UPDATE more
            # than once, and then claims more than `size`
            ids = db.scalars(select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.id).limit(size)
                             .with_for_update(skip_locked=True)).all()
            if not ids:
                return None
            db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), *_due(now))
                       .values(claim_token=token, claimed_until=now + lease)
                       .execution_options(synchronize_session=False))
            rows = db.execute(select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.payload,
                                     OutboxMessage.attempts, OutboxMessage.expires_at, OutboxMessage.dedupe_key)
                              .where(OutboxMessage.claim_token == token).order_by(OutboxMessage.id))
            # stop starting messages halfway through the lease, so none is sent after it ran out
            start_before = now + lease / 2
            return [_Claimed(id_, channel, payload, attempts, expires_at, token, once=key is not None,
                             start_before=start_before)
                    for id_, channel, payload, attempts, expires_at, key in rows]

    def _attempt(self, claimed: _Claimed, mail: MailSession | None, marks: _Marks) -> tuple[str | None, str | None]:
        """Try to send; (new status, error for the log and the row). Status None: not tried
        (the lease is running out: left for the next round), or taken over by another worker."""
        if clock.utcnow() >= claimed.start_before:
            return None, None
        if claimed.expires_at is not None and clock.as_utc(claimed.expires_at) <= clock.utcnow():
            return EXPIRED, None
        try:
            payload = json.loads(self._sealer.unseal(claimed.payload or ""))
        except (InvalidToken, ValueError):
            return FAILED, "content unreadable (secret_key changed?)"
        handed_over = False

        def point_of_no_return() -> None:
            nonlocal handed_over
            marks.mark_sent(claimed)
            handed_over = True

        try:
            self._send(claimed.channel, payload, mail, point_of_no_return if claimed.once else None)
        except ClaimLost:
            return None, "taken over by another worker"
        except (PermanentMailError, PermanentSmsError) as error:
            return FAILED, str(error)
        except EndpointRemoved:
            return FAILED, "the endpoint is no longer in [[webhooks]]"
        except (MailError, SmsError, WebhookError, ChannelUnavailable) as error:
            if handed_over:
                return SENT, f"no answer after the message was handed over, not sent again: {error}"
            if claimed.attempts + 1 >= self.settings.max_attempts:
                return FAILED, f"gave up after {claimed.attempts + 1} attempts: {error}"
            return PENDING, str(error) or type(error).__name__
        return SENT, None

    def _send(self, channel: str, payload: dict[str, str], mail: MailSession | None,
              point_of_no_return: PointOfNoReturn | None) -> None:
        if channel == EMAIL:
            if mail is None:
                raise ChannelUnavailable(EMAIL)
            mail.send(Mail(payload["to"], payload["subject"], payload["text"], payload.get("html")),
                      point_of_no_return)
        elif channel == WEBHOOK:
            self._post(payload, point_of_no_return)
        else:
            if self.sms is None:
                raise ChannelUnavailable(SMS)
            self.sms.send(payload["to"], payload["text"])

    def _post(self, payload: dict[str, str], delivered: PointOfNoReturn | None) -> None:
        """A webhook, signed with its endpoint's secret as the settings have it now; marked sent
        right after the endpoint's 2xx (`delivered`), not with the rest of its batch, so a worker
        killed mid-batch sends again only the one it was waiting on."""
        endpoint = self.webhooks.get(payload["url"])
        if endpoint is None:
            raise EndpointRemoved(payload["url"])
        post_webhook(endpoint.url, endpoint.secret, message_id=payload["id"], body=payload["body"],
                     timestamp=clock.utcnow(), timeout=endpoint.timeout_seconds)
        if delivered is not None:
            delivered()

    def _settle_batch(self, batch: list[_Claimed], outcomes: list[tuple[str | None, str | None]]) -> DeliveryReport:
        """Write every outcome of a batch in one transaction (one statement per kind of outcome);
        messages not tried are released for the next round. What became of the batch."""
        report = DeliveryReport()
        if not batch:
            return report
        now = clock.utcnow()
        kinds: dict[tuple[str, ...], list[dict[str, object]]] = {}
        for claimed, (status, error) in zip(batch, outcomes):
            if status is None and error is not None:
                report.skipped += 1  # another worker holds it now
                continue
            values = self._outcome(claimed, status, error, now)
            kinds.setdefault(tuple(values), []).append({"m_id": claimed.id, **{f"v_{k}": v for k, v in values.items()}})
            if status is not None:
                report.add(status)
                self._log(claimed, status, error)
        with self.store.transaction() as db:
            for columns, rows in kinds.items():
                db.execute(update(_OUTBOX).where(_OUTBOX.c.id == bindparam("m_id"), _OUTBOX.c.claim_token == batch[0].token)
                           .values({column: bindparam(f"v_{column}") for column in columns}), rows)
        return report

    def _outcome(self, claimed: _Claimed, status: str | None, error: str | None, now: datetime) -> dict[str, object]:
        """The columns an outcome changes."""
        values: dict[str, object] = {"claim_token": None, "claimed_until": None}
        if status is None:
            return values
        attempts = claimed.attempts + (status != EXPIRED)
        values.update(status=status, attempts=attempts, last_error=error[:255] if error else None)
        if status == PENDING:
            values["next_attempt_at"] = now + self._backoff(attempts)
        else:
            values.update(payload=None, sent_at=now if status == SENT else None)
        return values

    @staticmethod
    def _log(claimed: _Claimed, status: str, error: str | None) -> None:
        level = logging.WARNING if error else logging.DEBUG
        log.log(level, "outbox message %s: %s", claimed.id, status,
                extra={"outbox_id": claimed.id, "channel": claimed.channel, "status": status, "error": error})

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
            self.deliver_due(limit=ROUND)
            return self.seconds_until_due()
        except Exception:  # noqa: BLE001 - a database hiccup must not end the worker
            log.exception("outbox delivery round failed")
            return float(self.settings.poll_seconds)

    def _pause(self, wait: float | None) -> float:
        return min(wait if wait is not None else float(self.settings.poll_seconds), self.settings.poll_seconds)


class _Marks:
    """Marks "sent" at the point of no return, for all delivery threads of a `deliver_due`.

    Every mail with a dedupe key waits for such a commit before its last line, so they are
    grouped: a thread that arrives while another's mark is being committed waits, and goes into
    the next commit with every other thread that arrived meanwhile (a group commit: no thread
    waits for a timer, and N threads need far fewer than N commits). They run on one connection
    of their own, without a Session, which costs a third of a `store.transaction()`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._ready = threading.Condition()
        self._waiting: list[_Mark] = []
        self._writing = False

    def mark_sent(self, claimed: _Claimed) -> None:
        """Record the mail as sent while this worker still holds it; ClaimLost if it does not,
        MailError if the database could not be written."""
        mark = _Mark(claimed)
        group: list[_Mark] | None = None
        with self._ready:
            self._waiting.append(mark)
            while mark.held is None and self._writing:
                self._ready.wait()
            if mark.held is None:  # nobody is writing: this thread writes what is waiting
                group, self._waiting, self._writing = self._waiting, [], True
        if group is not None:
            self._write(group)
        if isinstance(mark.held, BaseException):  # the mail is not ended, so not sent: try again later
            raise MailError(f"could not record the mail as sent: {type(mark.held).__name__}") from mark.held
        if not mark.held:
            raise ClaimLost(claimed.id)

    def _write(self, group: list[_Mark]) -> None:
        outcome: set[tuple[int, str]] | BaseException = RuntimeError("not written")
        try:
            rows = self._connection.execute(_MARK_SENT, {"ids": [each.claimed.id for each in group],
                                                         "tokens": list({each.claimed.token for each in group}),
                                                         "now": clock.utcnow()})
            outcome = {(id_, token) for id_, token in rows}
            self._connection.commit()
        except SQLAlchemyError as error:  # every mail of the group is left unended
            self._connection.rollback()
            outcome = error
        finally:  # whatever happened, the waiting threads learn it and another may write
            with self._ready:
                for each in group:
                    each.held = (outcome if isinstance(outcome, BaseException)
                                 else (each.claimed.id, each.claimed.token) in outcome)
                self._writing = False
                self._ready.notify_all()


def _mail_payload(mail: Mail) -> dict[str, str | None]:
    return {"to": mail.to, "subject": mail.subject, "text": mail.text, "html": mail.html}


_OUTBOX = cast(Table, OutboxMessage.__table__)
# built once, in Core rather than ORM: building and compiling it per mail took most of the
# worker's time. By primary key; a row counts as held by the mark whose claim token it still has.
_MARK_SENT = (update(_OUTBOX)
              .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)), _OUTBOX.c.status == PENDING,
                     _OUTBOX.c.claim_token.in_(bindparam("tokens", expanding=True)))
              .values(status=SENT, sent_at=bindparam("now"), payload=None)
              .returning(_OUTBOX.c.id, _OUTBOX.c.claim_token))


# per dialect: read the setting, make commits quick, put the setting back
_QUICK_COMMITS = {
    "postgresql": ("SHOW synchronous_commit", "SET synchronous_commit = off", "SET synchronous_commit = {}"),
    "sqlite": ("PRAGMA synchronous", "PRAGMA synchronous = NORMAL", "PRAGMA synchronous = {:d}"),
}


@contextmanager
def _quick_commits(engine: Engine) -> Iterator[Connection]:
    """A connection whose commits do not wait for the disk (PostgreSQL's synchronous_commit off,
    SQLite's synchronous NORMAL), for the marks at the point of no return, and only for them.

    A mark must be visible to every other worker at once (it is), and must survive this process
    being killed (it does: the database has it). What it may not survive is a crash of the
    database server or the machine in the next fraction of a second; then the mail is sent a
    second time after the lease, never lost. That rare duplicate buys a commit that does not wait
    for fsync, the longest wait of every campaign mail."""
    show, quick, restore = _QUICK_COMMITS[engine.dialect.name]
    with engine.connect() as connection:
        before = connection.exec_driver_sql(show).scalar()
        connection.exec_driver_sql(quick)
        connection.commit()
        try:
            yield connection
        finally:
            try:
                connection.rollback()
                connection.exec_driver_sql(restore.format(before))  # the pool hands this connection to others
                connection.commit()
            except SQLAlchemyError:
                connection.invalidate()  # never back to the pool with commits that do not wait


@dataclass
class _Mark:
    claimed: _Claimed
    held: bool | BaseException | None = None  # None until written


def _in_threads(count: int, work: Callable[[], T]) -> list[T]:
    """`work()` in `count` threads at once (in this one when 1); its results, or its first error."""
    if count == 1:
        return [work()]
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(work())
        except BaseException as error:  # re-raised below, in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=run, daemon=True, name="outbox-delivery") for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


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
                    make_gateway(settings.sms), settings.webhooks)
    app.extensions["outbox"] = outbox
    return outbox
