"""Mail in each person's language: the language they last used the portal in, and the directory's
preferredLanguage counted with the standings (for campaigns).

Nobody has a language on record at first, and standings read the directory's at the next refresh.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_languages",
        sa.Column("directory_id", sa.String(255), primary_key=True),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("standings") as batch:
        batch.add_column(sa.Column("preferred_language", sa.String(35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("standings") as batch:
        batch.drop_column("preferred_language")
    op.drop_table("person_languages")
