"""topic corrections

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 02:30:00

Staff corrections of a ticket's topic (``改类``) or department (``转办``), kept as labels that
``wenzheng model train`` learns from. The text is copied at correction time: it is the message the
classifier saw, whatever later happens to the ticket.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "topic_corrections",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("old_topic", sa.String(length=32), nullable=False),
        sa.Column("new_topic", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("topic_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topic_corrections_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("topic_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topic_corrections_ticket_id"))
    op.drop_table("topic_corrections")
