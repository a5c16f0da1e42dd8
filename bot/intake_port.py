"""The dialogs' ``IntakePort`` on the database, bound to one citizen and one transaction.

Binding to the transaction is what makes filing atomic with the rest of the message's effects:
the ticket, its first history event, the inbound message marked processed and any queued pushes
commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.sla import DeadlineClock
from dialogs.ports import FiledTicket, TicketDraft, TicketSummary
from dialogs.taxonomy import Bilingual
from storage.models import Identity, Ticket
from storage.tickets import NewTicket, TicketRepository

DepartmentNames = Callable[[str | None], Bilingual | None]


def no_department(code: str | None) -> Bilingual | None:
    return None


class SqlIntakePort:
    def __init__(
        self,
        session: AsyncSession,
        tickets: TicketRepository,
        identity: Identity,
        deadlines: DeadlineClock,
        tz: ZoneInfo,
        now: datetime,
        department_names: DepartmentNames = no_department,
    ) -> None:
        self._session = session
        self._tickets = tickets
        self._identity = identity
        self._deadlines = deadlines
        self._tz = tz
        self._now = now
        self._department_names = department_names
        self.filed: list[str] = []

    async def file_ticket(self, draft: TicketDraft) -> FiledTicket:
        due = self._deadlines.deadlines(draft.type_code, draft.topic_code, self._now)
        place = draft.place
        new = NewTicket(
            intake_key=draft.intake_key,
            citizen_id=self._identity.citizen_id,
            identity_id=self._identity.id,
            type_code=draft.type_code,
            topic_code=draft.topic_code,
            province=place.province if place else None,
            city=place.city if place else None,
            district=place.district if place else None,
            address=place.address if place else "",
            lat=place.lat if place else None,
            lon=place.lon if place else None,
            details=draft.details,
            media=[{"kind": m.kind, "ref": m.ref, "url": m.url} for m in draft.media],
            phone=draft.phone,
            locale=draft.locale,
            department_code=None,
            respond_due_at=due.respond_due,
            answer_due_at=due.answer_due,
        )
        ticket, created = await self._tickets.create(
            self._session,
            new,
            local_day=self._now.astimezone(self._tz).strftime("%Y%m%d"),
            now=self._now,
            actor=f"citizen:{self._identity.citizen_id}",
        )
        if created:
            self.filed.append(ticket.number)
        return FiledTicket(
            number=ticket.number,
            respond_due=ticket.respond_due_at,
            answer_due=ticket.answer_due_at,
            answer_working_days=self._deadlines.policy_for(ticket.type_code, ticket.topic_code).answer_working_days,
            new=created,
        )

    def _summary(self, ticket: Ticket) -> TicketSummary:
        return TicketSummary(
            number=ticket.number,
            type_code=ticket.type_code,
            topic_code=ticket.topic_code,
            status=ticket.status,
            department=self._department_names(ticket.department_code),
            answer_due=ticket.answer_due_at,
            created_at=ticket.created_at,
        )

    async def my_tickets(self, limit: int) -> tuple[Sequence[TicketSummary], int]:
        rows = await self._tickets.for_citizen(self._session, self._identity.citizen_id, limit)
        total = (
            len(rows)
            if len(rows) < limit
            else await self._tickets.count_for_citizen(self._session, self._identity.citizen_id)
        )
        return [self._summary(t) for t in rows], total

    async def find_my_ticket(self, number: str) -> TicketSummary | None:
        ticket = await self._tickets.by_number(self._session, number.upper())
        # Someone else's number answers exactly like an unknown one: numbers are guessable.
        if ticket is None or ticket.citizen_id != self._identity.citizen_id:
            return None
        return self._summary(ticket)
