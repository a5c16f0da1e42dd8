"""Citizens' ratings of answers, kept with the department and the staff member who answered, and
counted in the department statistics (``storage.stats``) in the same transaction."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import stats
from storage.models import Rating


class RatingRepository:
    async def add(
        self,
        session: AsyncSession,
        *,
        ticket_id: int,
        score: int,
        comment: str,
        department_code: str | None,
        staff_id: int | None,
        round_: int,
        now: datetime,
        local_day: date,
    ) -> Rating:
        """``local_day``: ``now``'s day in the service's time zone, the day it counts on."""
        row = Rating(
            ticket_id=ticket_id,
            score=score,
            comment=comment,
            department_code=department_code,
            staff_id=staff_id,
            round=round_,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        await stats.record_rating(session, day=local_day, department_code=department_code, score=score)
        return row

    async def for_ticket(self, session: AsyncSession, ticket_id: int) -> list[Rating]:
        stmt = select(Rating).where(Rating.ticket_id == ticket_id).order_by(Rating.id)
        return list((await session.execute(stmt)).scalars())
