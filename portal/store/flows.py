"""Server-side state of password resets, and the per-account guards that pause them.

A reset's progress lives here, never in the browser: the row is bound to the browser session by
a hash of a random key that only that session holds, and to the account found when the person
typed their name. A partial unique index lets only one flow per account be `writing` at a time,
whichever process serves it, so two parallel resets of one account cannot both write.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base

WRITING = "writing"


class ResetFlow(Base):
    __tablename__ = "reset_flows"
    __table_args__ = (
        Index("ix_reset_flows_account_state", "account_key", "state"),
        Index("uq_reset_flows_one_writer", "account_key", unique=True,
              sqlite_where=text(f"state = '{WRITING}'"), postgresql_where=text(f"state = '{WRITING}'")),
    )

    id: Mapped[str] = mapped_column(String(43), primary_key=True)  # random, never shown to others
    session_key_hash: Mapped[str] = mapped_column(String(64))
    # the directory id of the account found at the start; None when no usable account was found
    account_key: Mapped[str | None] = mapped_column(String(255))
    login: Mapped[str | None] = mapped_column(String(255))
    # what limits and pauses are counted against: all aliases of one account share it
    guard_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    # bumped by every transition: a step is applied only to the version it was read at, so a
    # double submit or a replayed request changes nothing
    step: Mapped[int] = mapped_column(Integer, default=0)
    methods_required: Mapped[int] = mapped_column(Integer)
    methods_done: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the verification in progress: method kind, destination key, questions asked
    pending: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # while `writing`: when a writer that died is considered gone (its claim can be taken over)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccountGuard(Base):
    """Failed attempts against one account for one purpose, and the pause they caused.

    Counted in the database (not the rate limiter) so every process sees it, it survives
    restarts, and its window follows the portal's clock.
    """

    __tablename__ = "account_guards"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # "<purpose>:<guard key>"
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
