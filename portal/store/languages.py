"""The language each person last used the portal in, so mail sent later (campaigns, reminders,
notices) is written in it. Keyed by directory id like the rest of a person's records."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base

LANGUAGE_LENGTH = 35  # a BCP 47 tag as a directory may hold it (RFC 5646 advises supporting 35)


class PersonLanguage(Base):
    __tablename__ = "person_languages"

    directory_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    language: Mapped[str] = mapped_column(String(LANGUAGE_LENGTH))
    used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
