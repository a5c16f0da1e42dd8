"""inbound messages keep the dialog state they left behind

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 06:45:00

The form state (drafts: SQLite file or Redis) is saved after the message's transaction commits.
With group commit one kill -9 in that instant lost the step of a whole batch of citizens: the
platform's retry got the stored reply ("这个问题已有人反映… 1 关注它 2 仍要单独提交") but the form no
longer knew it had asked, so the citizen's "2" meant 修改. The state now commits with the message
(``dialog_state``), and a redelivery puts it back when the store's copy is older.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inbound_messages", sa.Column("dialog_state", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("dialog_state")
