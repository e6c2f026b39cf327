"""Adoption campaigns and, per campaign, who was sent it and when.

The recipient rows are written once, when sending starts (the audience is fixed then), and are
what makes sending resumable: a sender works through the `pending` rows, and turning a row into
`queued` happens in the same transaction that puts the mail in the outbox, under the dedupe key
`campaign:<campaign id>:<directory id>` (which is also how a row finds its delivery status).
However often a sender crashes or restarts, a person's row is queued at most once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template: Mapped[str] = mapped_column(String(32))     # coming_soon, available_now, signup_reminder
    audience: Mapped[str] = mapped_column(String(32))     # everybody, unregistered, reconfirm_due
    group: Mapped[str | None] = mapped_column(String(255))  # narrows the audience to one group
    theme: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))       # draft, sending, finished
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # last sign of life of a sender, so the page can tell "sending" from "stopped mid-way"
    sender_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignRecipient(Base):
    __tablename__ = "campaign_recipients"
    __table_args__ = (UniqueConstraint("campaign_id", "directory_id", name="uq_campaign_recipients_person"),
                      Index("ix_campaign_recipients_status", "campaign_id", "status", "id"),
                      Index("ix_campaign_recipients_queued_at", "queued_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    directory_id: Mapped[str] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16))       # pending, queued
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
