"""Signed webhooks: the endpoint a queued webhook goes to, and the deadline a person was reported past.

Webhooks travel through the outbox (outbox_messages, channel "webhook"); `endpoint` keeps the URL
after the content is erased, for the delivery log. Mail and SMS from before have none. A profile's
`deadline_passed_on` is the `required_from` date for which enforcement.deadline_passed was sent,
so it goes out once per person and deadline; profiles from before have had none sent.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("endpoint", sa.String(255), nullable=True))
    op.create_index("ix_outbox_messages_channel_id", "outbox_messages", ["channel", "id"])
    with op.batch_alter_table("security_profiles") as batch:
        batch.add_column(sa.Column("deadline_passed_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("security_profiles") as batch:
        batch.drop_column("deadline_passed_on")
    op.drop_index("ix_outbox_messages_channel_id", table_name="outbox_messages")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("endpoint")
