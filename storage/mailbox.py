"""Pushed messages waiting for the web chat page: the page's event stream reads them in order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import WebchatMailbox
from storage.upsert import insert_ignore, table_of


class SqlMailbox:
    """Implements the web chat adapter's ``Mailbox`` port on the shared database, so a push written
    by any worker reaches a page connected to any other."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], readers: async_sessionmaker[AsyncSession] | None = None
    ) -> None:
        self._sessions = sessions
        self._readers = readers or sessions  # open pages poll often: they must not queue behind writers

    async def append(self, chat_id: str, delivery_id: str, payload: dict[str, Any], now: datetime) -> None:
        async with self._sessions.begin() as session:
            await insert_ignore(
                session,
                table_of(WebchatMailbox),
                {"chat_id": chat_id, "outbox_id": delivery_id, "payload": payload, "created_at": now},
                ["outbox_id"],
            )

    async def read_after(self, chat_id: str, after_id: int, limit: int = 100) -> list[tuple[int, dict[str, Any]]]:
        async with self._readers() as session:
            stmt = (
                select(WebchatMailbox.id, WebchatMailbox.payload)
                .where(WebchatMailbox.chat_id == chat_id, WebchatMailbox.id > after_id)
                .order_by(WebchatMailbox.id)
                .limit(limit)
            )
            return [(int(i), dict(p)) for i, p in (await session.execute(stmt)).all()]

    async def last_id(self, chat_id: str) -> int:
        async with self._readers() as session:
            stmt = select(WebchatMailbox.id).where(WebchatMailbox.chat_id == chat_id)
            stmt = stmt.order_by(WebchatMailbox.id.desc()).limit(1)
            found = (await session.execute(stmt)).scalar_one_or_none()
            return 0 if found is None else int(found)
