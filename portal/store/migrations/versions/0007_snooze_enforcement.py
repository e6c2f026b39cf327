"""Enforcement people can live with: "not now" counted per person, and re-registration IT asks for.

Existing profiles start with no "not now" used and no request from IT.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("security_profiles") as batch:
        batch.add_column(sa.Column("snoozes", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("first_snoozed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reregistration_requested_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("security_profiles") as batch:
        batch.drop_column("reregistration_requested_at")
        batch.drop_column("first_snoozed_at")
        batch.drop_column("snoozes")
