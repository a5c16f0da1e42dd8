"""console views: each staff member's saved desk filters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:25:00

A saved view is a name and the desk's query string (``scope=mine&overdue=1``): the filter stays
the desk's to interpret, so a view saved today still opens after the filters grow. One name per
person; saving under a name again replaces it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "console_views",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("staff_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id", "name", name="uq_console_view_name"),
    )


def downgrade() -> None:
    op.drop_table("console_views")
