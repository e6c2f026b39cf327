"""Tables of registered security info: who registered what, and the one-time codes in flight.

Keyed by the directory's id of the account (entryUUID / objectGUID), not by the OIDC subject or
the login: the signed-out reset flow and the CSV import find a person through the directory,
and must find the same registration the signed-in person made, even after a rename.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import Base


class SecurityProfile(Base):
    __tablename__ = "security_profiles"
    __table_args__ = (UniqueConstraint("directory_id", name="uq_security_profiles_directory_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    directory_id: Mapped[str] = mapped_column(String(255))
    # the login name when last seen, for people reading reports (the key is directory_id)
    username: Mapped[str] = mapped_column(String(255), index=True)
    # when the person (or IT, by import) last said "this is still correct"; None = never
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # enforcement (services/registration/snooze.py): "not now" so far, and when the first was,
    # both cleared when the person confirms; and when IT last asked them to re-register (they must
    # confirm after that moment)
    snoozes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_snoozed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reregistration_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the required_from date enforcement.deadline_passed was sent for (once per person and deadline)
    deadline_passed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    methods: Mapped[list[AuthMethod]] = relationship(back_populates="profile", cascade="all, delete-orphan",
                                                     order_by="AuthMethod.id")
    answers: Mapped[list[SecurityAnswer]] = relationship(back_populates="profile",
                                                         cascade="all, delete-orphan",
                                                         order_by="SecurityAnswer.id")


class AuthMethod(Base):
    """One registered email address, phone number, authenticator app or passkey (one of each kind)."""

    __tablename__ = "auth_methods"
    __table_args__ = (UniqueConstraint("profile_id", "kind", name="uq_auth_methods_profile_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("security_profiles.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str | None] = mapped_column(String(320))
    # TOTP: the shared secret; passkey: the credential (id, public key, relying party); both
    # encrypted with a key derived from secret_key (methods/totp.py, methods/passkey.py)
    sealed_secret: Mapped[str | None] = mapped_column(Text)
    # TOTP: the newest time step accepted, so a code works once; passkey: the newest sign counter
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    profile: Mapped[SecurityProfile] = relationship(back_populates="methods")


class SecurityAnswer(Base):
    """An argon2 hash of one normalized answer; the question is a key into the configured catalogue."""

    __tablename__ = "security_answers"
    __table_args__ = (UniqueConstraint("profile_id", "question_key", name="uq_security_answers_question"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("security_profiles.id", ondelete="CASCADE"), index=True)
    question_key: Mapped[str] = mapped_column(String(64))
    answer_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    profile: Mapped[SecurityProfile] = relationship(back_populates="answers")


class OneTimeCode(Base):
    """A code sent by mail or SMS, stored only as a keyed hash bound to owner, purpose and destination."""

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_owner", "owner", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # whose code: the account's directory id (or whatever key the issuing flow binds it to)
    owner: Mapped[str] = mapped_column(String(255))
    purpose: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
