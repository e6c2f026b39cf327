"""Adoption campaigns and their recipients.

Revision ID: 0004
Revises: 0003
"""
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("template", sa.String(32), nullable=False),
        sa.Column("audience", sa.String(32), nullable=False),
        sa.Column("group", sa.String(255)),
        sa.Column("theme", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        _when("created_at", nullable=False),
        sa.Column("started_by", sa.String(255)),
        _when("started_at"), _when("finished_at"), _when("sender_seen_at"),
    )
    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("directory_id", sa.String(255), nullable=False),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _when("queued_at"),
        sa.UniqueConstraint("campaign_id", "directory_id", name="uq_campaign_recipients_person"),
    )
    op.create_index("ix_campaign_recipients_status", "campaign_recipients", ["campaign_id", "status", "id"])
    op.create_index("ix_campaign_recipients_queued_at", "campaign_recipients", ["queued_at"])


def downgrade() -> None:
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
