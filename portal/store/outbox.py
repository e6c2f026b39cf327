"""Mail and SMS waiting to be delivered: written in the flow's transaction, sent by a worker.

The content (recipient, text, codes) is encrypted at rest and erased once delivered, so the
table keeps only what reports need: channel, purpose, status and times (and a webhook's
endpoint and event type, for the delivery log on /admin).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),
                      Index("ix_outbox_messages_channel_id", "channel", "id"),
                      UniqueConstraint("dedupe_key", name="uq_outbox_messages_dedupe_key"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(64))
    # sealed JSON (recipient and content); None once sent, expired or given up
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # a code is useless after its own expiry: such messages are dropped, not sent late
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(255))
    # set by senders that must never send one thing twice (a campaign to a person, a daily reminder)
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    # a webhook's URL (kept after the content is erased, for the delivery log); None for mail and SMS
    endpoint: Mapped[str | None] = mapped_column(String(255))
