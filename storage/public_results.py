"""The queries behind the published results (/public, Open311): which tickets may be shown, the
department's latest answer and the citizen's latest rating, and the Open311 API keys.

Only rows, no masking and no wording: what may be shown of a row is decided in
``tickets.public_results``."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ApiKey, Rating, Ticket, TicketEvent

# Answered and not reopened: what the department said is final for now.
PUBLISHABLE_STATUSES = ("answered", "closed")


@dataclass(frozen=True, slots=True)
class PublicFilter:
    topic: str | None = None
    district: str | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class PublishedRow:
    ticket: Ticket
    answer: str  # the department's latest answer ("" when closed without one)
    score: int | None  # the citizen's latest rating, 1 满意 … 3 不满意


def _conditions(where: PublicFilter) -> list[ColumnElement[bool]]:
    """Consented, not hidden by staff, answered: the one definition of "published"."""
    conditions: list[ColumnElement[bool]] = [
        Ticket.public_consent.is_(True),
        Ticket.public_hidden_at.is_(None),
        Ticket.answered_at.is_not(None),
        Ticket.status.in_(PUBLISHABLE_STATUSES),
    ]
    if where.topic:
        conditions.append(Ticket.topic_code == where.topic)
    if where.district:
        conditions.append(Ticket.district == where.district)
    if where.department:
        conditions.append(Ticket.department_code == where.department)
    return conditions


def _published(where: PublicFilter) -> Select[Ticket]:
    return select(Ticket).where(*_conditions(where))


class PublicResultsRepository:
    async def published(
        self, session: AsyncSession, where: PublicFilter, *, offset: int, limit: int
    ) -> tuple[list[PublishedRow], int]:
        """One page of published tickets, newest answer first, and how many there are in all."""
        base = _published(where)
        total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
        stmt = base.order_by(Ticket.answered_at.desc(), Ticket.id.desc()).offset(offset).limit(limit)
        tickets = list((await session.execute(stmt)).scalars())
        return await self._with_answers(session, tickets), total

    async def districts(self, session: AsyncSession) -> list[str]:
        stmt = select(Ticket.district).where(*_conditions(PublicFilter())).distinct()
        return sorted(d for d in (await session.execute(stmt)).scalars() if d)

    async def by_numbers(self, session: AsyncSession, numbers: Sequence[str]) -> list[PublishedRow]:
        """Tickets by number whether published or not (Open311 lists every request; the text only
        of published ones), with their answers."""
        stmt = select(Ticket).where(Ticket.number.in_(list(numbers))).order_by(Ticket.created_at.desc())
        return await self._with_answers(session, list((await session.execute(stmt)).scalars()))

    async def requests(
        self,
        session: AsyncSession,
        *,
        topics: Sequence[str],
        statuses: Sequence[str],
        start: datetime,
        end: datetime,
        limit: int,
    ) -> list[PublishedRow]:
        """Open311 ``GET requests``: by requested (filed) time, newest first."""
        stmt = select(Ticket).where(Ticket.created_at >= start, Ticket.created_at <= end)
        if topics:
            stmt = stmt.where(Ticket.topic_code.in_(list(topics)))
        if statuses:
            stmt = stmt.where(Ticket.status.in_(list(statuses)))
        stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)
        return await self._with_answers(session, list((await session.execute(stmt)).scalars()))

    async def _with_answers(self, session: AsyncSession, tickets: list[Ticket]) -> list[PublishedRow]:
        if not tickets:
            return []
        ids = [t.id for t in tickets]
        answers: dict[int, str] = {}
        replies = select(TicketEvent).where(TicketEvent.ticket_id.in_(ids), TicketEvent.kind == "reply")
        for event in (await session.execute(replies.order_by(TicketEvent.id))).scalars():
            answers[event.ticket_id] = str(event.data.get("answer", ""))  # the latest wins
        scores: dict[int, int] = {}
        ratings = select(Rating).where(Rating.ticket_id.in_(ids)).order_by(Rating.id)
        for rating in (await session.execute(ratings)).scalars():
            scores[rating.ticket_id] = rating.score
        return [PublishedRow(t, answers.get(t.id, ""), scores.get(t.id)) for t in tickets]

    async def hide(self, session: AsyncSession, ticket: Ticket, reason: str | None, now: datetime) -> None:
        """Hide (a reason) or show again (None)."""
        await session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(public_hidden_at=None if reason is None else now, public_hidden_reason=reason, updated_at=now)
        )
        ticket.public_hidden_at = None if reason is None else now
        ticket.public_hidden_reason = reason
        ticket.updated_at = now


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyRepository:
    """Open311 clients' keys, stored as SHA-256 only (like /staff tokens)."""

    async def add(self, session: AsyncSession, name: str, key: str, now: datetime) -> ApiKey:
        row = ApiKey(name=name, key_hash=hash_key(key), created_at=now)
        session.add(row)
        await session.flush()
        return row

    async def by_name(self, session: AsyncSession, name: str) -> ApiKey | None:
        return (await session.execute(select(ApiKey).where(ApiKey.name == name))).scalar_one_or_none()

    async def find(self, session: AsyncSession, key: str) -> ApiKey | None:
        """The live key matching ``key``, or None."""
        stmt = select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
        return (await session.execute(stmt)).scalar_one_or_none()

    async def all(self, session: AsyncSession) -> list[ApiKey]:
        return list((await session.execute(select(ApiKey).order_by(ApiKey.name))).scalars())

    async def revoke(self, session: AsyncSession, name: str, now: datetime) -> bool:
        done = await session.execute(
            update(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)).values(revoked_at=now)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]
