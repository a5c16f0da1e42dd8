"""The append-only audit log: rows are inserted, never updated or deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry

_INSERT = insert(AuditEntry)


class AuditLog:
    async def record(
        self,
        session: AsyncSession,
        *,
        actor: str,
        action: str,
        ticket_id: int | None,
        allowed: bool,
        detail: dict[str, Any],
        now: datetime,
    ) -> None:
        # Core on the session's connection: an audit row is written by every action, and nothing
        # reads it back as an object in the same transaction (the ORM flush cost 5x).
        await (await session.connection()).execute(
            _INSERT,
            {
                "actor": actor,
                "action": action,
                "ticket_id": ticket_id,
                "allowed": allowed,
                "detail": detail,
                "created_at": now,
            },
        )

    async def entries(self, session: AsyncSession, ticket_id: int | None = None, limit: int = 200) -> list[AuditEntry]:
        stmt = select(AuditEntry).order_by(AuditEntry.id).limit(limit)
        if ticket_id is not None:
            stmt = stmt.where(AuditEntry.ticket_id == ticket_id)
        return list((await session.execute(stmt)).scalars())
