"""What every ticket action needs, in one value, and the one place a ticket's status moves.

The action modules (``routing``, ``staff_actions``, ``citizen_actions``, ``rating``, ``timers``)
are functions over a ``Workflow``: each runs inside the caller's transaction and does the whole of
one change (status checked against ``tickets.lifecycle``, a ticket event, an audit entry, the pushes
in the outbox, the timers that follow, the department statistics), so either all of it commits or
none of it does and a citizen is never told about a change that did not happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import ConversationRef, Outbound
from dialogs.formatting import moment
from dialogs.taxonomy import Taxonomy
from storage import stats
from storage.audit import AuditLog
from storage.escalations import EscalationRepository
from storage.hot_topics import HotTopicRepository
from storage.identities import IdentityRepository
from storage.models import Staff, Ticket
from storage.ratings import RatingRepository
from storage.staff import Role, StaffRepository
from storage.tickets import TicketRepository
from storage.timers import TimerRepository
from tickets import changes
from tickets.deadlines import DeadlineClock, OfficeHours
from tickets.duplicate_finder import DuplicateFinder
from tickets.hot_topics import HotRules
from tickets.ladder import Ladder
from tickets.lifecycle import Action, Status, transition

if TYPE_CHECKING:
    from tickets.routing import Directory


HANDLERS = (Role.HANDLER, Role.SUPERVISOR)  # who gets a department's cards


class PushQueue(Protocol):
    """Where pushes are written, in the caller's transaction (``bot.outbox.Outbox`` at run time):
    the domain says what to send to whom, the runtime sends it."""

    async def enqueue(
        self,
        session: AsyncSession,
        ref: ConversationRef,
        message: Outbound,
        now: datetime,
        ticket_id: int | None = None,
    ) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowSettings:
    remind_before: timedelta
    rating_window: timedelta
    office_hours: OfficeHours | None = None  # reminders are kept inside them; None: any time
    ladder: Ladder = field(default_factory=Ladder)  # 督办 that climbs (tickets.escalation)


class Refused(Exception):
    """A staff or citizen action that is not allowed; ``key``/``values`` are the text to show."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow:
    """The departments, rules and repositories the actions share; built once by ``bot.app``."""

    directory: Directory
    taxonomy: Taxonomy
    deadlines: DeadlineClock
    settings: WorkflowSettings
    tz: ZoneInfo
    outbox: PushQueue
    tickets: TicketRepository
    staff: StaffRepository
    identities: IdentityRepository
    audit: AuditLog
    timers: TimerRepository
    ratings: RatingRepository
    # Chat apps staff can be reached on (enabled channels); /staff always works.
    staff_channels: frozenset[str] = field(default_factory=frozenset)
    escalations: EscalationRepository = field(default_factory=EscalationRepository)
    hot_topics: HotTopicRepository = field(default_factory=HotTopicRepository)
    hot_rules: HotRules = field(default_factory=HotRules)  # the config's: the digest says its windows
    duplicates: DuplicateFinder = field(default_factory=DuplicateFinder)

    async def move(
        self,
        session: AsyncSession,
        ticket: Ticket,
        action: Action,
        actor: str,
        now: datetime,
        *,
        to_department: str | None = None,
        **data: object,
    ) -> None:
        """The one place a ticket's status or department changes (``to_department``: routing and
        转办), so the department statistics (``storage.stats``) move with it in this transaction."""
        before = Status(ticket.status)
        after = transition(before, action)
        source = ticket.department_code
        changes.apply(ticket, changes.Moved(after, now, to_department))
        await stats.record_change(
            session,
            day=stats.local_day(ticket.created_at, self.tz),
            before=(source, before.value),
            after=(ticket.department_code, after.value),
        )
        detail = {"from": before.value, "to": after.value, **{k: v for k, v in data.items() if v is not None}}
        await self.tickets.add_event(session, ticket.id, action.value, actor, detail, now)
        await self.audit.record(
            session, actor=actor, action=action.value, ticket_id=ticket.id, allowed=True, detail=detail, now=now
        )

    async def finish(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        """A final status: closed now, and no timer will fire for it again."""
        changes.apply(ticket, changes.Closed(now))
        await self.timers.cancel(session, ticket.id)

    async def department_staff(self, session: AsyncSession, code: str | None, roles: Sequence[Role]) -> list[Staff]:
        """The department's staff in those roles; its admins' colleagues when it has nobody yet,
        so a ticket of a department without staff is still seen by someone."""
        people = [] if code is None else await self.staff.of_department(session, code, [r.value for r in roles])
        if not people:
            people = [s for s in await self.staff.all(session) if s.role == Role.ADMIN and s.active]
        return people

    async def handlers(self, session: AsyncSession, code: str | None) -> list[Staff]:
        return await self.department_staff(session, code, HANDLERS)

    async def supervisors(self, session: AsyncSession, code: str | None) -> list[Staff]:
        """Supervisors of the department; admins when it has none, so an escalation always lands."""
        return await self.department_staff(session, code, (Role.SUPERVISOR,))

    def dept_name(self, ticket: Ticket, locale: str) -> str:
        name = self.directory.name(ticket.department_code)
        return name.get(locale) if name else (ticket.department_code or "-")

    def due(self, when: datetime, locale: str) -> str:
        return moment(when, locale, self.tz)
