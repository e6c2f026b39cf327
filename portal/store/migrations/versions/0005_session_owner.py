"""Web sessions know whose they are: the directory entry's stable id, so a new password ends them all.

Existing sessions get NULL (signed in before the portal recorded it); they end at their lifetime.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("web_sessions", sa.Column("directory_id", sa.String(255), nullable=True))
    op.create_index("ix_web_sessions_directory_id", "web_sessions", ["directory_id"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_directory_id", table_name="web_sessions")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_column("directory_id")
