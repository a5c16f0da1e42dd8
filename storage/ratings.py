"""Citizens' ratings of answers, kept with the department and the staff member who answered."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
    ) -> Rating:
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
        return row

    async def for_ticket(self, session: AsyncSession, ticket_id: int) -> list[Rating]:
        stmt = select(Rating).where(Rating.ticket_id == ticket_id).order_by(Rating.id)
        return list((await session.execute(stmt)).scalars())
