"""督办 ladder, hot topics, duplicates

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 05:30:00

The 督办 ladder: a ticket's rung (``tickets.escalation_level``) and every step taken
(``escalation_steps``), which a scorecard counts per department and day. Hot topics: each day's
stored result (``hot_topics``), the runs that made them (``hot_topic_runs``) and the supervisors
who get the daily digest (``hot_topic_subscriptions``). Duplicates: two indexes for the lookup
at filing, the citizens following a ticket, staff links, and 重复诉求 flags.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
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

    op.create_table(
        "hot_topics",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("city", sa.String(length=32), nullable=False),
        sa.Column("district", sa.String(length=32), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("recent", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.Integer(), nullable=False),
        sa.Column("growth", sa.Float(), nullable=False),
        sa.Column("citizens", sa.Integer(), nullable=False),
        sa.Column("districts", sa.JSON(), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "city", "rank", name="uq_hot_topic_rank"),
    )
    with op.batch_alter_table("hot_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hot_topics_day"), ["day"], unique=False)
    op.create_table(
        "hot_topic_runs",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("topics", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "hot_topic_subscriptions",
        sa.Column("staff_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("staff_id"),
    )

    op.create_index("ix_tickets_topic_point", "tickets", ["topic_code", "lat", "lon"], unique=False)
    op.create_index(
        "ix_tickets_topic_place", "tickets", ["topic_code", "district", "address", "created_at"], unique=False
    )
    op.create_table(
        "ticket_followers",
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("citizen_id", _ID, nullable=False),
        sa.Column("identity_id", _ID, nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"]),
        sa.ForeignKeyConstraint(["identity_id"], ["identities.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id", "citizen_id"),
    )
    op.create_index("ix_ticket_followers_citizen_id", "ticket_followers", ["citizen_id"], unique=False)
    op.create_table(
        "ticket_links",
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("original_id", _ID, nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["original_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_ticket_links_original_id", "ticket_links", ["original_id"], unique=False)
    op.create_table(
        "repeat_requests",
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("earlier_id", _ID, nullable=False),
        sa.Column("citizen_id", _ID, nullable=False),
        sa.Column("department_code", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizens.id"]),
        sa.ForeignKeyConstraint(["earlier_id"], ["tickets.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_repeat_requests_day", "repeat_requests", ["created_at", "department_code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_repeat_requests_day", table_name="repeat_requests")
    op.drop_table("repeat_requests")
    op.drop_index("ix_ticket_links_original_id", table_name="ticket_links")
    op.drop_table("ticket_links")
    op.drop_index("ix_ticket_followers_citizen_id", table_name="ticket_followers")
    op.drop_table("ticket_followers")
    op.drop_index("ix_tickets_topic_place", table_name="tickets")
    op.drop_index("ix_tickets_topic_point", table_name="tickets")
    op.drop_table("hot_topic_subscriptions")
    op.drop_table("hot_topic_runs")
    with op.batch_alter_table("hot_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hot_topics_day"))
    op.drop_table("hot_topics")
    with op.batch_alter_table("escalation_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_steps_ticket_id"))
        batch_op.drop_index("ix_escalation_steps_day")
    op.drop_table("escalation_steps")
    op.drop_column("tickets", "escalation_level")
