"""Security info (profiles, methods, answers, one-time codes), the audit trail and the outbox.

Revision ID: 0002
Revises: 0001
"""
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "security_profiles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("directory_id", sa.String(255), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        _when("confirmed_at", nullable=True), _when("created_at"), _when("updated_at"),
        sa.UniqueConstraint("directory_id", name="uq_security_profiles_directory_id"),
    )
    op.create_index("ix_security_profiles_username", "security_profiles", ["username"])
    op.create_table(
        "auth_methods",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("security_profiles.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(320)),
        sa.Column("sealed_secret", sa.Text),
        sa.Column("last_used_step", sa.BigInteger),
        sa.Column("source", sa.String(16), nullable=False),
        _when("created_at"), _when("updated_at"),
        sa.UniqueConstraint("profile_id", "kind", name="uq_auth_methods_profile_kind"),
    )
    op.create_index("ix_auth_methods_profile_id", "auth_methods", ["profile_id"])
    op.create_table(
        "security_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("profile_id", sa.Integer, sa.ForeignKey("security_profiles.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("question_key", sa.String(64), nullable=False),
        sa.Column("answer_hash", sa.String(255), nullable=False),
        _when("created_at"),
        sa.UniqueConstraint("profile_id", "question_key", name="uq_security_answers_question"),
    )
    op.create_index("ix_security_answers_profile_id", "security_answers", ["profile_id"])
    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _when("created_at"), _when("expires_at"), _when("used_at", nullable=True),
        _when("voided_at", nullable=True),
    )
    op.create_index("ix_one_time_codes_owner", "one_time_codes", ["owner", "purpose"])
    op.create_index("ix_one_time_codes_expires_at", "one_time_codes", ["expires_at"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        _when("at"),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("username", sa.String(255)),
        sa.Column("ip", sa.String(45)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64)),
        sa.Column("request_id", sa.String(64)),
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_event_at", "audit_events", ["event", "at"])
    op.create_index("ix_audit_events_username_at", "audit_events", ["username", "at"])
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        _when("created_at"), _when("next_attempt_at"), _when("expires_at", nullable=True),
        _when("sent_at", nullable=True),
        sa.Column("claim_token", sa.String(32)),
        _when("claimed_until", nullable=True),
        sa.Column("last_error", sa.String(255)),
        sa.Column("dedupe_key", sa.String(255)),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_messages_dedupe_key"),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in ("outbox_messages", "audit_events", "one_time_codes", "security_answers", "auth_methods",
                  "security_profiles"):
        op.drop_table(table)
