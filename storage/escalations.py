"""督办 steps (append-only) and the tickets under 督办: the SQL behind ``tickets.escalation``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EscalationStep, Ticket


class EscalationRepository:
    async def record(
        self,
        session: AsyncSession,
        *,
        ticket: Ticket,
        step: str,
        cause: str,
        actor: str,
        now: datetime,
        reason: str = "",
    ) -> EscalationStep:
        row = EscalationStep(
            ticket_id=ticket.id,
            department_code=ticket.department_code,
            step=step,
            level=ticket.escalation_level,
            cause=cause,
            actor=actor,
            reason=reason,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        return row

    async def steps(self, session: AsyncSession, ticket_id: int) -> list[EscalationStep]:
        stmt = select(EscalationStep).where(EscalationStep.ticket_id == ticket_id).order_by(EscalationStep.id)
        return list((await session.execute(stmt)).scalars())

    async def steps_of(self, session: AsyncSession, ticket_ids: Sequence[int]) -> list[EscalationStep]:
        """Every step of several tickets at once, oldest first (the console's 督办 page: one query)."""
        if not ticket_ids:
            return []
        stmt = (
            select(EscalationStep)
            .where(EscalationStep.ticket_id.in_(list(ticket_ids)))
            .order_by(EscalationStep.ticket_id, EscalationStep.id)
        )
        return list((await session.execute(stmt)).scalars())

    async def last(self, session: AsyncSession, ticket_id: int, step: str) -> EscalationStep | None:
        stmt = (
            select(EscalationStep)
            .where(EscalationStep.ticket_id == ticket_id, EscalationStep.step == step)
            .order_by(EscalationStep.id.desc())
            .limit(1)
        )
        return (await session.execute(stmt)).scalar_one_or_none()

    async def counts(
        self, session: AsyncSession, since: datetime, until: datetime
    ) -> dict[tuple[str | None, str], int]:
        """Steps taken in [since, until) by (department, step): what a scorecard shows."""
        stmt = (
            select(EscalationStep.department_code, EscalationStep.step, func.count())
            .where(EscalationStep.created_at >= since, EscalationStep.created_at < until)
            .group_by(EscalationStep.department_code, EscalationStep.step)
        )
        return {(dept, step): int(n) for dept, step, n in (await session.execute(stmt)).all()}

    async def supervised(
        self, session: AsyncSession, *, statuses: Sequence[str], departments: Sequence[str] | None, min_level: int = 1
    ) -> list[Ticket]:
        """Tickets on a 督办 rung, highest rung and oldest deadline first; ``departments`` None: all."""
        stmt = select(Ticket).where(Ticket.escalation_level >= min_level, Ticket.status.in_(list(statuses)))
        if departments is not None:
            stmt = stmt.where(Ticket.department_code.in_(list(departments)))
        stmt = stmt.order_by(Ticket.escalation_level.desc(), Ticket.answer_due_at, Ticket.id).limit(200)
        return list((await session.execute(stmt)).scalars())
