"""Remind people by mail that their directory password expires soon, with a link to change it.

Run daily from cron (`flask --app wsgi reminders expiry`). The expiry date is the directory's
own (AD: msDS-UserPasswordExpiryTimeComputed; OpenLDAP: pwdChangedTime plus the policy's
pwdMaxAge), read by the directory adapter. Each reminder goes through the outbox with the
dedupe key `expiry:<directory id>:<day>`, so running the job twice a day (or in two places)
sends one mail per person per day; people keep being reminded on later days until they change it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import force_locale
from sqlalchemy import func, select

from ... import clock
from ...adapters.directory import Directory, DirectoryUser
from ...settings import Settings
from ...store.outbox import OutboxMessage
from ..container import Collaborators
from ..messaging import languages, messages
from ..messaging.links import mail_links
from ..messaging.outbox import PENDING
from ..security import audit
from .population import manageable

TEMPLATE = "password-expiry"
PURPOSE = "expiry-reminder"


@dataclass(frozen=True)
class ReminderRun:
    expiring: int    # people whose password expires within the window
    queued: int      # reminders queued by this run
    already: int     # reminded today already (by an earlier run)
    no_address: int  # expiring, but the directory has no mail address for them


def expiring_within(directory: Directory, settings: Settings, now: datetime) -> list[DirectoryUser]:
    """Everybody whose password still works but expires within `within_days`. Not limited to the
    reset rollout: changing a password one still knows is open to every account the portal manages."""
    horizon = now + timedelta(days=settings.expiry_reminders.within_days)
    return [user for user in directory.people() if manageable(user)
            and (expires := user.state.password_expires_at) is not None and now < expires <= horizon]


def send_reminders(c: Collaborators) -> ReminderRun:
    """Queue today's reminders, all in one transaction. Raises DirectoryUnavailable."""
    now = clock.utcnow()
    expiring = expiring_within(c.directory, c.settings, now)
    links = mail_links(c.settings)
    queued = already = no_address = 0
    with c.store.transaction() as db:
        used = languages.last_used(db, [user.directory_id for user in expiring])
        for user in expiring:
            if not user.email:
                no_address += 1
                continue
            expires = user.state.password_expires_at
            assert expires is not None
            days_left = -(-(expires - now) // timedelta(days=1))  # rounded up: "in 10 days", not 9.99
            with force_locale(languages.choose(used.get(user.directory_id), user.preferred_language)):
                mail = messages.render_mail(TEMPLATE, user.email, recipient_name=user.display_name,
                                            expires_at_text=expires.strftime("%Y-%m-%d %H:%M UTC"),
                                            days_left=days_left, **links)
            if c.outbox.enqueue_mail(db, mail, purpose=PURPOSE, dedupe_key=dedupe_key(user, now.date())):
                queued += 1
                audit.record(db, "expiry_reminder.sent", audit.SUCCESS, username=user.login,
                             details={"days_left": days_left})
            else:
                already += 1
    return ReminderRun(expiring=len(expiring), queued=queued, already=already, no_address=no_address)


def undelivered(c: Collaborators) -> int:
    """Reminders (of any run) the outbox has not settled yet."""
    with c.store.transaction() as db:
        return db.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.purpose == PURPOSE, OutboxMessage.status == PENDING)) or 0


def dedupe_key(user: DirectoryUser, day: date) -> str:
    return f"expiry:{user.directory_id}:{day.isoformat()}"
