"""Standings: where each directory account stands with registration, for reports and audiences.

Empty after the upgrade: `flask --app wsgi reports refresh` fills it (the pages say so until then).

Revision ID: 0006_reports
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_reports"
down_revision = "0005"
branch_labels = None
depends_on = None

LOGIN = sa.String(255).with_variant(sa.String(255, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "standings",
        sa.Column("directory_id", sa.String(255), primary_key=True),
        sa.Column("login", LOGIN, nullable=False),
        sa.Column("login_key", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("in_scope", sa.Boolean, nullable=False),
        sa.Column("required", sa.Integer, nullable=False),
        sa.Column("counted", sa.Text, nullable=False),
        sa.Column("registered", sa.Boolean, nullable=False),
        sa.Column("registered_since", sa.DateTime(timezone=True)),
        sa.Column("registered_day", sa.Date),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_standings_login", "standings", ["login"])
    op.create_index("ix_standings_login_key", "standings", ["login_key"])
    op.create_table(
        "standing_groups",
        sa.Column("group_key", sa.String(1024), primary_key=True),
        sa.Column("directory_id", sa.String(255), sa.ForeignKey("standings.directory_id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_index("ix_standing_groups_directory_id", "standing_groups", ["directory_id"])
    op.create_table(
        "standings_refreshes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("people", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("standings_refreshes")
    op.drop_index("ix_standing_groups_directory_id", table_name="standing_groups")
    op.drop_table("standing_groups")
    op.drop_index("ix_standings_login_key", table_name="standings")
    op.drop_index("ix_standings_login", table_name="standings")
    op.drop_table("standings")
