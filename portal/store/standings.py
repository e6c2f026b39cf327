"""Where each person the directory holds stands with registration, kept for reports and audiences.

One row per directory account, written by `flask --app wsgi reports refresh` (a streamed pass
over the directory and the store) and, between passes, whenever a person's own registration
changes. Reports and campaign audiences count and select these rows in SQL, so a request at
100,000 people reads a few aggregates or one page instead of the whole directory.

What each column holds is decided by services/campaigns/population.py; the table only keeps it:
- group membership is a table of its own (StandingGroup: one row per person and group name or
  DN, case-folded), so a group filter is an index lookup, not a scan of every person's groups;
- `counted` is a delimited list (`SEP` around every method key), so a method count is one LIKE;
- `registered_day` is the UTC day of `registered_since`, so coverage per day is one GROUP BY on
  every database (no time-zone arithmetic in SQL);
- `seen_at` is when a refresh (or an incremental update) last wrote the row: a refresh deletes
  the rows it did not see, the people who left the directory.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .languages import LANGUAGE_LENGTH
from .models import Base

SEP = "\x1f"  # unit separator: never part of a method key
# Sorting by login gives Python's order (code points) on PostgreSQL too, whatever the database's locale.
LOGIN = String(255).with_variant(String(255, collation="C"), "postgresql")


class PersonStanding(Base):
    __tablename__ = "standings"

    directory_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    login: Mapped[str] = mapped_column(LOGIN, index=True)  # the long lists are paged in login order
    login_key: Mapped[str] = mapped_column(String(255), index=True)  # login.lower(): how audit names match
    display_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    # the directory's preferredLanguage (as written there, cut to LANGUAGE_LENGTH): campaigns' mail
    # language for people who have not used the portal yet (store/languages.py)
    preferred_language: Mapped[str | None] = mapped_column(String(LANGUAGE_LENGTH))
    in_scope: Mapped[bool] = mapped_column(Boolean)
    required: Mapped[int] = mapped_column(Integer)
    counted: Mapped[str] = mapped_column(Text)
    registered: Mapped[bool] = mapped_column(Boolean)
    registered_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registered_day: Mapped[date | None] = mapped_column(Date)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StandingGroup(Base):
    """A person's group, by name and by DN (two rows), case-folded as DirectoryUser.in_group compares."""

    __tablename__ = "standing_groups"

    group_key: Mapped[str] = mapped_column(String(1024), primary_key=True)
    directory_id: Mapped[str] = mapped_column(ForeignKey("standings.directory_id", ondelete="CASCADE"),
                                              primary_key=True, index=True)


class StandingsRefresh(Base):
    """One run of `reports refresh`: the pages show when the last one finished."""

    __tablename__ = "standings_refreshes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    people: Mapped[int | None] = mapped_column(Integer)
