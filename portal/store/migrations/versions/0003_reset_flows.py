"""Reset flows bound to a browser session and an account; per-account guards (failures, pauses).

Revision ID: 0003
Revises: 0002
"""
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

WRITING = sa.text("state = 'writing'")


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "reset_flows",
        sa.Column("id", sa.String(43), primary_key=True),
        sa.Column("session_key_hash", sa.String(64), nullable=False),
        sa.Column("account_key", sa.String(255)),
        sa.Column("login", sa.String(255)),
        sa.Column("guard_key", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("methods_required", sa.Integer, nullable=False),
        sa.Column("methods_done", sa.JSON, nullable=False),
        sa.Column("pending", sa.JSON, nullable=False),
        _when("created_at"), _when("updated_at"), _when("expires_at"), _when("lease_until", nullable=True),
    )
    op.create_index("ix_reset_flows_account_state", "reset_flows", ["account_key", "state"])
    op.create_index("ix_reset_flows_expires_at", "reset_flows", ["expires_at"])
    op.create_index("uq_reset_flows_one_writer", "reset_flows", ["account_key"], unique=True,
                    sqlite_where=WRITING, postgresql_where=WRITING)
    op.create_table(
        "account_guards",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        _when("window_started_at"), _when("paused_until", nullable=True),
    )


def downgrade() -> None:
    op.drop_table("account_guards")
    op.drop_table("reset_flows")
