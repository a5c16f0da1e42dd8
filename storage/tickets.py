"""Tickets, their numbers and their append-only history. Filing also counts the ticket in the
department statistics (``storage.stats``), in the same transaction."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import stats
from storage.models import Identity, OutboxMessage, Ticket, TicketEvent, TicketSequence
from storage.outbox import OutboxStatus
from storage.upsert import increment_counter, table_of


@dataclass(frozen=True, slots=True)
class NewTicket:
    intake_key: str
    citizen_id: int
    identity_id: int
    type_code: str
    topic_code: str
    province: str | None
    city: str | None
    district: str | None
    address: str
    lat: float | None
    lon: float | None
    details: str
    media: list[dict[str, Any]]
    phone: str | None
    locale: str
    department_code: str | None
    respond_due_at: datetime
    answer_due_at: datetime
    public_consent: bool = False


def format_number(local_day: str, seq: int) -> str:
    return f"WZ{local_day}-{seq:04d}"


_INSERT_EVENT = insert(TicketEvent)


class TicketRepository:
    async def by_intake_key(self, session: AsyncSession, intake_key: str) -> Ticket | None:
        stmt = select(Ticket).where(Ticket.intake_key == intake_key)
        return (await session.execute(stmt)).scalar_one_or_none()

    async def create(
        self, session: AsyncSession, new: NewTicket, *, local_day: str, now: datetime, actor: str
    ) -> tuple[Ticket, bool]:
        """File a ticket once per intake form: a second submit of the same form (a double tap, a
        retry after a crash) returns the first ticket and ``False``. ``local_day`` (``YYYYMMDD`` in the
        service's time zone) numbers the ticket and is the day it counts on in the statistics."""
        existing = await self.by_intake_key(session, new.intake_key)
        if existing is not None:
            return existing, False
        seq = await increment_counter(session, table_of(TicketSequence), "day", local_day, "last")
        identity = await session.get(Identity, new.identity_id)
        ticket = Ticket(
            number=format_number(local_day, seq),
            status="submitted",
            created_at=now,
            updated_at=now,
            channel=identity.channel if identity is not None else None,
            first_respond_due_at=new.respond_due_at,
            first_answer_due_at=new.answer_due_at,
            **{f: getattr(new, f) for f in NewTicket.__dataclass_fields__},
        )
        session.add(ticket)
        await session.flush()
        await stats.record_filing(
            session,
            day=datetime.strptime(local_day, "%Y%m%d").date(),
            department_code=ticket.department_code,
            status=ticket.status,
        )
        await self.add_event(session, ticket.id, "submitted", actor, {"number": ticket.number}, now)
        return ticket, True

    async def add_event(
        self,
        session: AsyncSession,
        ticket_id: int,
        kind: str,
        actor: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        # Core on the session's connection: every action writes one, nothing reads it back as an object.
        await (await session.connection()).execute(
            _INSERT_EVENT, {"ticket_id": ticket_id, "kind": kind, "actor": actor, "data": data, "created_at": now}
        )

    async def events(self, session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
        stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        return list((await session.execute(stmt)).scalars())

    async def for_citizen(self, session: AsyncSession, citizen_id: int, limit: int) -> list[Ticket]:
        stmt = (
            select(Ticket)
            .where(Ticket.citizen_id == citizen_id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(limit)
        )
        return list((await session.execute(stmt)).scalars())

    async def count_for_citizen(self, session: AsyncSession, citizen_id: int) -> int:
        stmt = select(func.count()).select_from(Ticket).where(Ticket.citizen_id == citizen_id)
        return int((await session.execute(stmt)).scalar_one())

    async def by_number(self, session: AsyncSession, number: str) -> Ticket | None:
        return (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one_or_none()

    async def queue(
        self, session: AsyncSession, *, statuses: Collection[str], department_code: str | None, limit: int
    ) -> list[Ticket]:
        """Tickets in those statuses by answer due time (a department's, or all with ``None``)."""
        stmt = select(Ticket).where(Ticket.status.in_(list(statuses)))
        if department_code is not None:
            stmt = stmt.where(Ticket.department_code == department_code)
        stmt = stmt.order_by(Ticket.answer_due_at, Ticket.id).limit(limit)
        return list((await session.execute(stmt)).scalars())

    async def undelivered_pushes(
        self, session: AsyncSession, *, department_code: str | None, exclude_channel: str, limit: int
    ) -> list[tuple[str, OutboxMessage]]:
        """Ticket pushes that are dead or held, newest first, with their ticket numbers."""
        stmt = (
            select(Ticket.number, OutboxMessage)
            .join(Ticket, Ticket.id == OutboxMessage.ticket_id)
            .where(
                OutboxMessage.status.in_((OutboxStatus.DEAD.value, OutboxStatus.HELD.value)),
                OutboxMessage.channel != exclude_channel,
            )
        )
        if department_code is not None:
            stmt = stmt.where(Ticket.department_code == department_code)
        rows = await session.execute(stmt.order_by(OutboxMessage.id.desc()).limit(limit))
        return [(str(number), message) for number, message in rows.all()]

    async def latest_for_citizen(
        self, session: AsyncSession, citizen_id: int, *, statuses: Collection[str], by_answer: bool = False
    ) -> Ticket | None:
        """The citizen's latest ticket in those statuses: latest filed, or latest answered."""
        order = (
            (Ticket.answered_at.desc(), Ticket.id.desc()) if by_answer else (Ticket.created_at.desc(), Ticket.id.desc())
        )
        stmt = (
            select(Ticket)
            .where(Ticket.citizen_id == citizen_id, Ticket.status.in_(list(statuses)))
            .order_by(*order)
            .limit(1)
        )
        return (await session.execute(stmt)).scalar_one_or_none()
