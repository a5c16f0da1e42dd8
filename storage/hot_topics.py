"""The SQL of hot topics: the tickets a run reads, the stored daily results, the runs, and who
subscribed to the digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import HotTopic, HotTopicRun, HotTopicSubscription, Ticket

TicketRow = tuple[str, int, str | None, str | None, str, datetime]  # number, citizen, city, district, details, at


class HotTopicRepository:
    async def tickets_between(self, session: AsyncSession, start: datetime, end: datetime) -> list[TicketRow]:
        """Every ticket filed in [start, end) (``ix_tickets_created``), only the columns a run needs."""
        stmt = select(
            Ticket.number, Ticket.citizen_id, Ticket.city, Ticket.district, Ticket.details, Ticket.created_at
        ).where(Ticket.created_at >= start, Ticket.created_at < end)
        return [tuple(row) for row in (await session.execute(stmt)).all()]  # type: ignore[misc]

    async def claim_run(self, session: AsyncSession, day: date, now: datetime, stale: timedelta) -> bool:
        """Start the run of ``day``: False when another worker has it (or it is done). A run that
        started ``stale`` ago and never finished (its worker died) is taken over."""
        try:
            async with session.begin_nested():
                session.add(HotTopicRun(day=day, started_at=now, tickets=0, topics=0, seconds=0.0))
            return True
        except IntegrityError:
            taken = await session.execute(
                update(HotTopicRun)
                .where(HotTopicRun.day == day, HotTopicRun.finished_at.is_(None), HotTopicRun.started_at < now - stale)
                .values(started_at=now)
            )
            return bool(getattr(taken, "rowcount", 0))

    async def finish_run(
        self, session: AsyncSession, day: date, now: datetime, *, tickets: int, topics: int, seconds: float
    ) -> None:
        await session.execute(
            update(HotTopicRun)
            .where(HotTopicRun.day == day)
            .values(finished_at=now, tickets=tickets, topics=topics, seconds=seconds)
        )

    async def replace_day(
        self, session: AsyncSession, day: date, rows: Sequence[dict[str, Any]], now: datetime
    ) -> None:
        await session.execute(delete(HotTopic).where(HotTopic.day == day))
        session.add_all(HotTopic(day=day, created_at=now, **row) for row in rows)
        await session.flush()

    async def latest(self, session: AsyncSession) -> tuple[date | None, list[HotTopic]]:
        """The newest day that has a finished run, and its topics (the console shows these)."""
        day = (
            await session.execute(
                select(HotTopicRun.day)
                .where(HotTopicRun.finished_at.is_not(None))
                .order_by(HotTopicRun.day.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if day is None:
            return None, []
        stmt = select(HotTopic).where(HotTopic.day == day).order_by(HotTopic.city, HotTopic.rank)
        return day, list((await session.execute(stmt)).scalars())

    async def runs(self, session: AsyncSession, limit: int = 30) -> list[HotTopicRun]:
        stmt = select(HotTopicRun).order_by(HotTopicRun.day.desc()).limit(limit)
        return list((await session.execute(stmt)).scalars())

    async def subscribe(self, session: AsyncSession, staff_id: int, now: datetime) -> bool:
        """False when already subscribed."""
        if await session.get(HotTopicSubscription, staff_id) is not None:
            return False
        session.add(HotTopicSubscription(staff_id=staff_id, created_at=now))
        await session.flush()
        return True

    async def unsubscribe(self, session: AsyncSession, staff_id: int) -> bool:
        gone = await session.execute(delete(HotTopicSubscription).where(HotTopicSubscription.staff_id == staff_id))
        return bool(getattr(gone, "rowcount", 0))

    async def subscribers(self, session: AsyncSession) -> list[int]:
        stmt = select(HotTopicSubscription.staff_id).order_by(HotTopicSubscription.staff_id)
        return list((await session.execute(stmt)).scalars())
