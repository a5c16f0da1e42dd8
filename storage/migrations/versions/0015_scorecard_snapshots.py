"""scorecard snapshots

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 06:30:00

The scorecard of the current and the previous month per grouping, stored by the minute loop
(``bot.console_ops``) with the moment it was computed: the console's scorecard and /public read
it (a month at 1,000,000 tickets takes a quarter to half a second to count).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scorecard_snapshots",
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("grouping", sa.String(length=16), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("period_start", "period_end", "grouping"),
    )


def downgrade() -> None:
    op.drop_table("scorecard_snapshots")
