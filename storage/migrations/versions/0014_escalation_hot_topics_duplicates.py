"""督办 ladder, hot topics, duplicates

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-06 05:30:00

The 督办 ladder: a ticket's rung (``tickets.escalation_level``) and every step taken
(``escalation_steps``), which a scorecard counts per department and day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # A plain ALTER TABLE ADD COLUMN on both databases: SQLite accepts it with a constant default,
    # and a batch copy of ``tickets`` would have to drop a table other tables point at.
    op.add_column("tickets", sa.Column("escalation_level", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.create_table(
        "escalation_steps",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.create_index("ix_escalation_steps_day", ["created_at", "department_code", "step"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalation_steps_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_steps_ticket_id"))
        batch_op.drop_index("ix_escalation_steps_day")
    op.drop_table("escalation_steps")
    op.drop_column("tickets", "escalation_level")
