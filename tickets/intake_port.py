"""The dialogs' ``IntakePort`` on the database, bound to one citizen and one transaction.

Binding to the transaction is what makes filing atomic with the rest of the message's effects:
the ticket, its first history event, the inbound message marked processed and any queued pushes
commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import FiledTicket, RatingResult, SimilarTicket, TicketDraft, TicketSummary, UrgeResult
from storage.identities import IdentityRef
from storage.models import Ticket
from storage.tickets import NewTicket, TicketRepository
from tickets import citizen_actions, duplicates, escalation, follower_rating, rating, routing
from tickets.context import Refused, Workflow
from tickets.deadlines import DeadlineClock
from tickets.lifecycle import OPEN, Action, IllegalTransition, Status, transition

log = logging.getLogger(__name__)


class SqlIntakePort:
    def __init__(
        self,
        *,
        session: AsyncSession,
        tickets: TicketRepository,
        identity: IdentityRef,
        deadlines: DeadlineClock,
        tz: ZoneInfo,
        now: datetime,
        workflow: Workflow,
    ) -> None:
        self._session = session
        self._tickets = tickets
        self._identity = identity
        self._deadlines = deadlines
        self._tz = tz
        self._now = now
        self._workflow = workflow
        self.filed: list[str] = []
        self._filings: list[dict[str, str | None]] = []

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
            public_consent=draft.publish,
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
            await routing.route_new(self._workflow, self._session, ticket, self._now)
            await duplicates.flag_repeat(self._workflow, self._session, ticket, self._now)  # 重复诉求
            self._filings.append(
                {
                    "ticket": ticket.number,
                    "channel": self._identity.channel,
                    "type": ticket.type_code,
                    "topic": ticket.topic_code,
                    "department": ticket.department_code,
                }
            )
        return FiledTicket(
            number=ticket.number,
            respond_due=ticket.respond_due_at,
            answer_due=ticket.answer_due_at,
            answer_working_days=self._deadlines.policy_for(ticket.type_code, ticket.topic_code).answer_working_days,
            new=created,
            department=self._workflow.directory.name(ticket.department_code),
        )

    def log_filings(self) -> None:
        """Called by the dispatcher once the transaction committed, so the log never shows a
        filing that was rolled back: one JSON line per new ticket (no details, no phone)."""
        for filing in self._filings:
            log.info("ticket filed %s", filing["ticket"], extra=filing)
        self._filings.clear()

    def _summary(self, ticket: Ticket) -> TicketSummary:
        return TicketSummary(
            number=ticket.number,
            type_code=ticket.type_code,
            topic_code=ticket.topic_code,
            status=ticket.status,
            department=self._workflow.directory.name(ticket.department_code),
            answer_due=ticket.answer_due_at,
            created_at=ticket.created_at,
            withdrawable=_allows(Status(ticket.status), Action.WITHDRAW),
        )

    async def my_tickets(self, limit: int) -> tuple[Sequence[TicketSummary], int]:
        rows = await self._tickets.for_citizen(self._session, self._identity.citizen_id, limit)
        total = (
            len(rows)
            if len(rows) < limit
            else await self._tickets.count_for_citizen(self._session, self._identity.citizen_id)
        )
        return [self._summary(t) for t in rows], total

    async def _mine(self, number: str) -> Ticket | None:
        ticket = await self._tickets.by_number(self._session, number.upper())
        # Someone else's number answers exactly like an unknown one: numbers are guessable.
        if ticket is None or ticket.citizen_id != self._identity.citizen_id:
            return None
        return ticket

    async def find_my_ticket(self, number: str) -> TicketSummary | None:
        ticket = await self._mine(number)
        return None if ticket is None else self._summary(ticket)

    @property
    def _actor(self) -> str:
        return f"citizen:{self._identity.citizen_id}"

    async def awaiting_rating(self) -> str | None:
        citizen_id = self._identity.citizen_id
        ticket = await self._tickets.latest_for_citizen(
            self._session, citizen_id, statuses=[Status.ANSWERED.value], by_answer=True
        )
        if ticket is not None:
            return ticket.number
        statuses = [Status.ANSWERED.value, Status.CLOSED.value]
        for followed in await self._workflow.duplicates.repo.followed_answered(self._session, citizen_id, statuses):
            if await follower_rating.pending(self._workflow, self._session, followed, citizen_id, self._now):
                return followed.number
        return None

    async def rating_pending(self, number: str) -> bool:
        ticket = await self._tickets.by_number(self._session, number.upper())
        if ticket is None:
            return False
        if ticket.citizen_id == self._identity.citizen_id:
            return ticket.status == Status.ANSWERED.value
        return await follower_rating.pending(
            self._workflow, self._session, ticket, self._identity.citizen_id, self._now
        )

    async def rate(self, number: str, score: int, comment: str) -> RatingResult:
        ticket = await self._tickets.by_number(self._session, number.upper())
        if ticket is None:
            return RatingResult.NOT_PENDING
        if ticket.citizen_id != self._identity.citizen_id:  # a follower's: recorded, never a KPI
            return await follower_rating.rate(
                self._workflow, self._session, ticket, self._identity.citizen_id, score, comment, self._now
            )
        if ticket.status != Status.ANSWERED.value:
            return RatingResult.NOT_PENDING
        return await rating.rate(self._workflow, self._session, ticket, score, comment, self._actor, self._now)

    async def supplement(self, number: str | None, addition: str) -> str | None:
        if number is not None:
            ticket = await self._mine(number)
        else:
            open_states = [s.value for s in (*OPEN, Status.SUBMITTED, Status.ANSWERED)]
            ticket = await self._tickets.latest_for_citizen(
                self._session, self._identity.citizen_id, statuses=open_states
            )
        if ticket is None:
            return None
        try:
            transition(Status(ticket.status), Action.SUPPLEMENT)
        except IllegalTransition:
            return None
        await citizen_actions.supplement(self._workflow, self._session, ticket, addition, self._actor, self._now)
        return ticket.number

    async def set_publication(self, number: str, consent: bool) -> bool:
        ticket = await self._mine(number)
        if ticket is None:
            return False
        await citizen_actions.set_publication(self._workflow, self._session, ticket, consent, self._actor, self._now)
        return True

    async def withdraw(self, number: str) -> bool:
        ticket = await self._mine(number)
        if ticket is None:
            return False
        try:
            await citizen_actions.withdraw(self._workflow, self._session, ticket, self._actor, self._now)
        except (IllegalTransition, Refused):
            return False
        return True

    async def urge(self, number: str) -> UrgeResult:
        ticket = await self._mine(number)
        if ticket is None:
            return UrgeResult.NOT_FOUND
        return await escalation.urge(self._workflow, self._session, ticket, self._actor, self._now)

    async def similar(self, draft: TicketDraft) -> Sequence[SimilarTicket]:
        # Nothing this transaction wrote can be the same matter: no flush before the lookup, so the
        # message's writes still go in one go at commit (and a database that hangs, hangs there).
        with self._session.sync_session.no_autoflush:
            return await duplicates.similar_for_citizen(
                self._workflow, self._session, draft, self._identity.citizen_id, self._now
            )

    async def follow(self, number: str, locale: str) -> bool:
        ticket = await self._tickets.by_number(self._session, number.upper())
        return ticket is not None and await duplicates.follow(
            self._workflow, self._session, ticket, identity=self._identity, locale=locale, now=self._now
        )


def _allows(status: Status, action: Action) -> bool:
    try:
        transition(status, action)
    except IllegalTransition:
        return False
    return True
