"""seen request nonces

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:30:00

Signed pushes' nonces (Weibo; WeChat in plain mode, whose signatures do not cover the body) with
the body's SHA-256, written in the transaction that stores the message and kept until the
request's timestamp could no longer pass. Kept in the database rather than the session store so
a restart (the embedded store is in memory) cannot make a captured query acceptable again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_request_nonces",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "nonce"),
    )
    op.create_index(op.f("ix_seen_request_nonces_expires_at"), "seen_request_nonces", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_seen_request_nonces_expires_at"), table_name="seen_request_nonces")
    op.drop_table("seen_request_nonces")
