"""The inbound message log: stored before anything is acknowledged, unique per platform key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboundMessage
from storage.upsert import insert_ignore, table_of

# Prebuilt and run on the session's connection (Core): both run for every message.
_FIND = select(
    InboundMessage.id, InboundMessage.processed_at, InboundMessage.replies, InboundMessage.dialog_state
).where(InboundMessage.channel == bindparam("channel"), InboundMessage.message_key == bindparam("message_key"))
_MARK_PROCESSED = (
    update(InboundMessage)
    .where(InboundMessage.id == bindparam("message_id"))
    .values(
        processed_at=bindparam("now"),
        replies=bindparam("replies"),
        replied_inline=bindparam("replied_inline"),
        dialog_state=bindparam("dialog_state"),
    )
)


@dataclass(frozen=True, slots=True)
class Recorded:
    """``replies`` is set when the message was already processed: answer a redelivery with them."""

    message_id: int
    new: bool
    replies: list[Any] | None
    dialog_state: str | None = None  # the form state the message left, when it was processed


class InboundRepository:
    async def record(
        self,
        session: AsyncSession,
        *,
        channel: str,
        message_key: str,
        identity_id: int,
        kind: str,
        text: str,
        payload: dict[str, Any],
        raw: str,
        received_at: datetime,
    ) -> Recorded:
        new_id = await insert_ignore(
            session,
            table_of(InboundMessage),
            {
                "channel": channel,
                "message_key": message_key,
                "identity_id": identity_id,
                "kind": kind,
                "text": text,
                "payload": payload,
                "raw": raw,
                "received_at": received_at,
                "processed_at": None,
                "replies": None,
            },
            ["channel", "message_key"],
        )
        if new_id is not None:
            return Recorded(new_id, True, None)
        conn = await session.connection()
        row = (await conn.execute(_FIND, {"channel": channel, "message_key": message_key})).one()
        done = row.processed_at is not None
        return Recorded(int(row.id), False, row.replies if done else None, row.dialog_state if done else None)

    async def mark_processed(
        self,
        session: AsyncSession,
        message_id: int,
        replies: list[Any],
        now: datetime,
        replied_inline: bool = True,
        dialog_state: str | None = None,
    ) -> None:
        await (await session.connection()).execute(
            _MARK_PROCESSED,
            {
                "message_id": message_id,
                "now": now,
                "replies": replies,
                "replied_inline": replied_inline,
                "dialog_state": dialog_state,
            },
        )

    async def unprocessed(self, session: AsyncSession, older_than: datetime, limit: int) -> list[InboundMessage]:
        """Messages stored but never answered (a crash mid-way): the recovery sweep runs them."""
        stmt = (
            select(InboundMessage)
            .where(InboundMessage.processed_at.is_(None), InboundMessage.received_at < older_than)
            .order_by(InboundMessage.id)
            .limit(limit)
        )
        return list((await session.execute(stmt)).scalars())
