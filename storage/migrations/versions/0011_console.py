"""console: first-round deadlines and owners, the scorecard's cohorts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 05:20:00

Rework (退回重办), 督办 and 转办 overwrite ``respond_due_at``, ``answer_due_at``, ``responded_at`` and
``answered_at``: they are the *current* round's, which the timers need. The scorecard (签收率, 响应率,
按时办结率, 回退率) needs the first round's, so they get columns of their own, never overwritten,
and the latest rating's score (满意率 counts each ticket's latest rating once).

Back-fill, from what the history kept:
* the original deadlines from the first ``overdue_respond`` / ``overdue_answer`` timer written for
  the ticket (timers are cancelled, never deleted); else the current deadline;
* ``claimed_at``, ``first_answered_at``, ``transferred_at`` from the first ``claim``, ``reply`` and
  ``transfer`` events; ``first_department_code`` from the first transfer's source, else the
  current department; ``channel`` from the ticket's identity; ``latest_score`` from the ratings.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("channel", sa.String(length=32)),
    ("first_department_code", sa.String(length=64)),
    ("first_respond_due_at", sa.DateTime(timezone=True)),
    ("first_answer_due_at", sa.DateTime(timezone=True)),
    ("claimed_at", sa.DateTime(timezone=True)),
    ("first_answered_at", sa.DateTime(timezone=True)),
    ("transferred_at", sa.DateTime(timezone=True)),
    ("latest_score", sa.Integer()),
)
_INDEXES = (
    ("ix_tickets_assignee_due", ["assignee_staff_id", "status", "answer_due_at"]),
    ("ix_tickets_department_created", ["department_code", "created_at"]),
    ("ix_tickets_phone", ["phone"]),
    ("ix_tickets_first_respond_due", ["first_respond_due_at"]),
    ("ix_tickets_first_answer_due", ["first_answer_due_at"]),
)

_BACKFILL = (
    """UPDATE tickets SET
        channel = (SELECT i.channel FROM identities i WHERE i.id = tickets.identity_id),
        first_respond_due_at = coalesce(
            (SELECT m.due_at FROM timers m WHERE m.ticket_id = tickets.id AND m.kind = 'overdue_respond'
             ORDER BY m.id LIMIT 1), respond_due_at),
        first_answer_due_at = coalesce(
            (SELECT m.due_at FROM timers m WHERE m.ticket_id = tickets.id AND m.kind = 'overdue_answer'
             ORDER BY m.id LIMIT 1), answer_due_at),
        claimed_at = (
            SELECT min(e.created_at) FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.kind = 'claim'),
        first_answered_at = coalesce(
            (SELECT min(e.created_at) FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.kind = 'reply'),
            answered_at),
        transferred_at = (
            SELECT min(e.created_at) FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.kind = 'transfer'),
        latest_score = (SELECT r.score FROM ratings r WHERE r.ticket_id = tickets.id
                        ORDER BY r.created_at DESC, r.id DESC LIMIT 1)""",
)


def _first_department_sql(dialect: str) -> str:
    source = "e.data ->> 'source'" if dialect == "postgresql" else "json_extract(e.data, '$.source')"
    return f"""UPDATE tickets SET first_department_code = coalesce(
        (SELECT {source} FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.kind = 'transfer'
         ORDER BY e.id LIMIT 1), department_code)"""


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name, type_ in _COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    for statement in _BACKFILL:
        op.execute(statement)
    op.execute(_first_department_sql(op.get_bind().dialect.name))
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name, columns in _INDEXES:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name, _ in reversed(_INDEXES):
            batch_op.drop_index(name)
        for name, _ in reversed(_COLUMNS):
            batch_op.drop_column(name)
