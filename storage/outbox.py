"""The durable outbound queue. Rows are written in the transaction that caused them and claimed
by workers with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so each is sent by exactly one worker."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import OutboxMessage, OutboxWorkerBeat
from storage.upsert import insert_ignore_key, table_of


class OutboxStatus(StrEnum):
    """An outbox row's ``status``."""

    PENDING = "pending"
    SENDING = "sending"  # leased by a worker
    SENT = "sent"
    DEAD = "dead"  # dead-lettered: shown to staff (投递失败)
    HELD = "held"  # the platform's reply window is closed: waits for the citizen's next message


# The stored values, as plain strings for the database drivers.
PENDING, SENDING, SENT, DEAD, HELD = (
    OutboxStatus.PENDING.value,
    OutboxStatus.SENDING.value,
    OutboxStatus.SENT.value,
    OutboxStatus.DEAD.value,
    OutboxStatus.HELD.value,
)


_INSERT = insert(OutboxMessage).returning(OutboxMessage.id)


class OutboxRepository:
    def __init__(self, lease: timedelta = timedelta(minutes=2)) -> None:
        # A claimed row is leased; if its worker dies mid-send the lease runs out and it is retried.
        self._lease = lease

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        channel: str,
        account: str,
        chat_id: str,
        payload: dict[str, Any],
        purpose: str,
        ticket_id: int | None,
        now: datetime,
    ) -> int:
        """The new row's id. Core on the session's connection: pushes are written by most messages,
        and nothing reads the row back as an object in the same transaction."""
        values = {
            "channel": channel,
            "account": account,
            "chat_id": chat_id,
            "payload": payload,
            "purpose": purpose,
            "ticket_id": ticket_id,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": None,
            "created_at": now,
            "sent_at": None,
        }
        return int((await (await session.connection()).execute(_INSERT, values)).scalar_one())

    # --- workers: a heartbeat each, so the rows of a dead worker need not wait for their lease ---

    async def register_worker(self, session: AsyncSession, worker_id: str, now: datetime, *, sole: bool) -> int:
        """Record a starting worker. ``sole`` (the embedded SQLite default runs one process): every
        other worker row is a previous instance that is gone, so its leased rows are free at once.
        The number of previous workers forgotten."""
        forgotten = 0
        if sole:
            result = await session.execute(delete(OutboxWorkerBeat).where(OutboxWorkerBeat.id != worker_id))
            forgotten = int(getattr(result, "rowcount", 0) or 0)
        await insert_ignore_key(
            session,
            table_of(OutboxWorkerBeat),
            {"id": worker_id, "started_at": now, "heartbeat_at": now},
            ["id"],
        )
        await self.beat(session, worker_id, now)
        return forgotten

    async def beat(self, session: AsyncSession, worker_id: str, now: datetime) -> None:
        await session.execute(update(OutboxWorkerBeat).where(OutboxWorkerBeat.id == worker_id).values(heartbeat_at=now))

    async def retire_worker(self, session: AsyncSession, worker_id: str, stale_before: datetime) -> None:
        """A worker stopping: its row goes (what it leaves leased is free to others at once), and so
        do rows of workers long dead."""
        await session.execute(
            delete(OutboxWorkerBeat).where(
                (OutboxWorkerBeat.id == worker_id) | (OutboxWorkerBeat.heartbeat_at < stale_before)
            )
        )

    async def claim_due(
        self,
        session: AsyncSession,
        now: datetime,
        limit: int,
        *,
        worker_id: str | None = None,
        stale_before: datetime | None = None,
    ) -> list[OutboxMessage]:
        """Due rows, at most one per chat: the oldest undelivered message of a chat goes first, so a
        chat never sees "answered" before "taken up" even when a send is deferred or retried.

        A row being sent is due when its lease ends, or at once when the worker holding it is gone:
        no heartbeat since ``stale_before`` (or no worker row at all). Rows leased before workers
        had ids (``leased_by`` empty) wait for their lease, as they always did."""
        earlier = aliased(OutboxMessage)
        blocked = (
            select(earlier.id)
            .where(
                earlier.channel == OutboxMessage.channel,
                earlier.chat_id == OutboxMessage.chat_id,
                earlier.status.in_((PENDING, SENDING, HELD)),
                earlier.id < OutboxMessage.id,
            )
            .exists()
        )
        due = OutboxMessage.next_attempt_at <= now
        if stale_before is not None:
            live = select(OutboxWorkerBeat.id).where(OutboxWorkerBeat.heartbeat_at >= stale_before)
            orphaned = (
                (OutboxMessage.status == SENDING)
                & OutboxMessage.leased_by.is_not(None)
                & OutboxMessage.leased_by.not_in(live)
            )
            due = due | orphaned
        stmt = (
            select(OutboxMessage)
            .where(OutboxMessage.status.in_((PENDING, SENDING)), due, ~blocked)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
        rows = list((await session.execute(stmt)).scalars())
        for row in rows:
            row.status = SENDING
            row.attempts += 1
            row.next_attempt_at = now + self._lease
            row.leased_by = worker_id
        await session.flush()
        return rows

    async def mark_sent(self, session: AsyncSession, outbox_id: int, now: datetime) -> None:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(status=SENT, sent_at=now)
        )

    async def reschedule(self, session: AsyncSession, outbox_id: int, at: datetime, error: str) -> None:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id)
            .values(status=PENDING, next_attempt_at=at, last_error=error[:2000])
        )

    async def defer(self, session: AsyncSession, outbox_id: int, at: datetime) -> None:
        """Back to pending at ``at``, giving back the attempt the claim took."""
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id)
            .values(status=PENDING, next_attempt_at=at, attempts=OutboxMessage.attempts - 1)
        )

    async def mark_dead(self, session: AsyncSession, outbox_id: int, error: str) -> None:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(status=DEAD, last_error=error[:2000])
        )

    async def hold(self, session: AsyncSession, outbox_id: int, error: str) -> None:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(status=HELD, last_error=error[:2000])
        )

    async def release_held(self, session: AsyncSession, channel: str, chat_id: str, now: datetime) -> int:
        """They wrote again: what waited for the window goes out now, in its original order (by chat,
        whatever account it was addressed with: staff pushes carry none)."""
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == HELD, OutboxMessage.channel == channel, OutboxMessage.chat_id == chat_id)
            .values(status=PENDING, next_attempt_at=now, attempts=0)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def sent_since(self, session: AsyncSession, channel: str, chat_id: str, since: datetime) -> int:
        stmt = select(func.count()).where(
            OutboxMessage.status == SENT,
            OutboxMessage.channel == channel,
            OutboxMessage.chat_id == chat_id,
            OutboxMessage.sent_at >= since,
        )
        return int((await session.execute(stmt)).scalar_one())

    async def depth(self, session: AsyncSession) -> dict[str, int]:
        stmt = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        return {str(status): int(n) for status, n in (await session.execute(stmt)).all()}

    async def get(self, session: AsyncSession, outbox_id: int) -> OutboxMessage | None:
        return await session.get(OutboxMessage, outbox_id)

    async def dead_letters(self, session: AsyncSession, limit: int = 50) -> list[OutboxMessage]:
        stmt = select(OutboxMessage).where(OutboxMessage.status == DEAD).order_by(OutboxMessage.id.desc()).limit(limit)
        return list((await session.execute(stmt)).scalars())
