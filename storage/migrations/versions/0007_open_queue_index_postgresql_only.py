"""open queue index on PostgreSQL only

On SQLite the index (without its WHERE, which SQLite cannot apply to this query) made the planner
prefer it to ``ix_tickets_department_due`` and read every closed ticket of the department: the
staff queue went from 1.9 ms to 191 ms at 1,000,000 tickets (BENCHMARKS.md). 0004 now creates it on
PostgreSQL only; this drops it from SQLite databases that already have it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 20:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_tickets_open_queue")


def downgrade() -> None:
    pass  # 0004 no longer creates it on SQLite: there is nothing to put back
