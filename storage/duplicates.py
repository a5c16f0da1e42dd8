"""The SQL behind duplicate detection: candidates near a point or at a named place (each query on
its own index, ``ix_tickets_topic_point`` / ``ix_tickets_topic_place``), followers, staff links
and 重复诉求 flags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RepeatRequest, Ticket, TicketFollower, TicketLink


def _live(open_statuses: Sequence[str], answered_statuses: Sequence[str], answered_since: datetime) -> object:
    return or_(
        Ticket.status.in_(list(open_statuses)),
        and_(Ticket.status.in_(list(answered_statuses)), Ticket.answered_at >= answered_since),
    )


class DuplicateRepository:
    async def near(
        self,
        session: AsyncSession,
        *,
        topic_code: str,
        box: tuple[float, float, float, float],  # lat_min, lat_max, lon_min, lon_max
        open_statuses: Sequence[str],
        answered_statuses: Sequence[str],
        answered_since: datetime,
        created_since: datetime,
        limit: int = 30,
    ) -> list[Ticket]:
        lat_min, lat_max, lon_min, lon_max = box
        stmt = (
            select(Ticket)
            .where(
                Ticket.topic_code == topic_code,
                Ticket.lat.between(lat_min, lat_max),
                Ticket.lon.between(lon_min, lon_max),
                Ticket.created_at >= created_since,
                _live(open_statuses, answered_statuses, answered_since),  # type: ignore[arg-type]
            )
            .order_by(Ticket.created_at.desc())
            .limit(limit)
        )
        return list((await session.execute(stmt)).scalars())

    async def same_place(
        self,
        session: AsyncSession,
        *,
        topic_code: str,
        district: str,
        address: str,
        open_statuses: Sequence[str],
        answered_statuses: Sequence[str],
        answered_since: datetime,
        created_since: datetime,
        limit: int = 30,
    ) -> list[Ticket]:
        stmt = (
            select(Ticket)
            .where(
                Ticket.topic_code == topic_code,
                Ticket.district == district,
                Ticket.address == address,
                Ticket.created_at >= created_since,
                _live(open_statuses, answered_statuses, answered_since),  # type: ignore[arg-type]
            )
            .order_by(Ticket.created_at.desc())
            .limit(limit)
        )
        return list((await session.execute(stmt)).scalars())

    async def citizen_recent(
        self, session: AsyncSession, *, citizen_id: int, topic_code: str, since: datetime, exclude_id: int
    ) -> list[Ticket]:
        stmt = (
            select(Ticket)
            .where(
                Ticket.citizen_id == citizen_id,
                Ticket.topic_code == topic_code,
                Ticket.created_at >= since,
                Ticket.id != exclude_id,
            )
            .order_by(Ticket.created_at.desc())
            .limit(20)
        )
        return list((await session.execute(stmt)).scalars())

    # --- followers and links ------------------------------------------------------------------

    async def follow(
        self,
        session: AsyncSession,
        *,
        ticket_id: int,
        citizen_id: int,
        identity_id: int,
        locale: str,
        source: str,
        now: datetime,
    ) -> bool:
        if await self.is_follower(session, ticket_id, citizen_id):
            return False
        session.add(
            TicketFollower(
                ticket_id=ticket_id,
                citizen_id=citizen_id,
                identity_id=identity_id,
                locale=locale,
                source=source,
                created_at=now,
            )
        )
        await session.flush()
        return True

    async def unfollow(self, session: AsyncSession, ticket_id: int, citizen_id: int, source: str) -> None:
        await session.execute(
            delete(TicketFollower).where(
                TicketFollower.ticket_id == ticket_id,
                TicketFollower.citizen_id == citizen_id,
                TicketFollower.source == source,
            )
        )

    async def is_follower(self, session: AsyncSession, ticket_id: int, citizen_id: int) -> bool:
        return await session.get(TicketFollower, (ticket_id, citizen_id)) is not None

    async def followed_answered(self, session: AsyncSession, citizen_id: int, statuses: Sequence[str]) -> list[Ticket]:
        """Tickets this citizen follows in ``statuses``, latest answer first (their ratings to give)."""
        stmt = (
            select(Ticket)
            .join(TicketFollower, TicketFollower.ticket_id == Ticket.id)
            .where(TicketFollower.citizen_id == citizen_id, Ticket.status.in_(list(statuses)))
            .order_by(Ticket.answered_at.desc())
            .limit(5)
        )
        return list((await session.execute(stmt)).scalars())

    async def followers(self, session: AsyncSession, ticket_id: int) -> list[TicketFollower]:
        stmt = select(TicketFollower).where(TicketFollower.ticket_id == ticket_id).order_by(TicketFollower.created_at)
        return list((await session.execute(stmt)).scalars())

    async def link(self, session: AsyncSession, ticket_id: int, original_id: int, actor: str, now: datetime) -> None:
        session.add(TicketLink(ticket_id=ticket_id, original_id=original_id, actor=actor, created_at=now))
        await session.flush()

    async def link_of(self, session: AsyncSession, ticket_id: int) -> TicketLink | None:
        return await session.get(TicketLink, ticket_id)

    async def linked_to(self, session: AsyncSession, original_id: int) -> list[str]:
        """The numbers of the tickets linked to an original (``ix_ticket_links_original_id``)."""
        stmt = (
            select(Ticket.number)
            .join(TicketLink, TicketLink.ticket_id == Ticket.id)
            .where(TicketLink.original_id == original_id)
            .order_by(Ticket.number)
        )
        return [str(n) for n in (await session.execute(stmt)).scalars()]

    async def unlink(self, session: AsyncSession, ticket_id: int) -> None:
        await session.execute(delete(TicketLink).where(TicketLink.ticket_id == ticket_id))

    # --- 重复诉求 --------------------------------------------------------------------------------

    async def flag_repeat(
        self, session: AsyncSession, *, ticket: Ticket, earlier: Ticket, score: float, now: datetime
    ) -> None:
        session.add(
            RepeatRequest(
                ticket_id=ticket.id,
                earlier_id=earlier.id,
                citizen_id=ticket.citizen_id,
                department_code=ticket.department_code,
                score=score,
                created_at=now,
            )
        )
        await session.flush()

    async def repeat_counts(self, session: AsyncSession, since: datetime, until: datetime) -> dict[str | None, int]:
        """重复诉求 flagged in [since, until) per department: what a scorecard shows."""
        stmt = (
            select(RepeatRequest.department_code, func.count())
            .where(RepeatRequest.created_at >= since, RepeatRequest.created_at < until)
            .group_by(RepeatRequest.department_code)
        )
        return {dept: int(n) for dept, n in (await session.execute(stmt)).all()}
