"""public results consent and Open311 api keys

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 05:30:00

A ticket's 公开 consent (given at filing or later with 公开 编号, withdrawn with 不公开 编号),
staff hiding a published item with a reason, and the hashed keys of Open311 clients. Existing
tickets get no consent: nothing filed before the question existed is ever published.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN (no batch copy): SQLite adds a column with a constant default in
    # place, and copying ``tickets`` would trip the foreign keys that point at it.
    op.add_column("tickets", sa.Column("public_consent", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.add_column("tickets", sa.Column("public_hidden_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tickets", sa.Column("public_hidden_reason", sa.Text(), nullable=True))
    op.create_index("ix_tickets_public", "tickets", ["public_consent", "answered_at"], unique=False)
    op.create_table(
        "api_keys",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_index("ix_tickets_public", table_name="tickets")
    op.drop_column("tickets", "public_hidden_reason")  # SQLite >= 3.35 drops a column in place
    op.drop_column("tickets", "public_hidden_at")
    op.drop_column("tickets", "public_consent")
