"""Stored deadlines. Claimed like outbox rows (SKIP LOCKED on PostgreSQL), so each fires once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Timer

PENDING = "pending"
DONE = "done"
CANCELLED = "cancelled"


_INSERT = insert(Timer)
_CANCEL_ALL = (
    update(Timer).where(Timer.ticket_id == bindparam("of_ticket"), Timer.status == PENDING).values(status=CANCELLED)
)
_CANCEL_KINDS = _CANCEL_ALL.where(Timer.kind.in_(bindparam("kinds", expanding=True)))


class TimerRepository:
    async def schedule(self, session: AsyncSession, ticket_id: int, kind: str, due_at: datetime, now: datetime) -> None:
        await (await session.connection()).execute(
            _INSERT, {"ticket_id": ticket_id, "kind": kind, "due_at": due_at, "status": PENDING, "created_at": now}
        )

    async def cancel(self, session: AsyncSession, ticket_id: int, kinds: Sequence[str] | None = None) -> None:
        conn = await session.connection()
        if kinds is None:
            await conn.execute(_CANCEL_ALL, {"of_ticket": ticket_id})
        else:
            await conn.execute(_CANCEL_KINDS, {"of_ticket": ticket_id, "kinds": list(kinds)})

    async def claim_due(self, session: AsyncSession, now: datetime, limit: int) -> list[Timer]:
        """Due timers, marked done in the caller's transaction: their effects commit with them."""
        stmt = (
            select(Timer)
            .where(Timer.status == PENDING, Timer.due_at <= now)
            .order_by(Timer.due_at, Timer.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list((await session.execute(stmt)).scalars())
        for row in rows:
            row.status = DONE
        await session.flush()
        return rows

    async def pending(self, session: AsyncSession, ticket_id: int) -> list[Timer]:
        stmt = select(Timer).where(Timer.ticket_id == ticket_id, Timer.status == PENDING).order_by(Timer.due_at)
        return list((await session.execute(stmt)).scalars())
