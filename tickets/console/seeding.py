"""Acting out tickets through the real actions at chosen moments: ``wenzheng demo``'s month and the
scorecard's hand-computed test month.

A ``Script`` is a list of steps (file, claim, reply, rate, transfer, extend, reject, note, link,
unlink, a citizen's 催办, a supervisor's 解除督办), each at
its own time; ``run`` plays them in time order, each in its own transaction, and fires the stored
timers (reminders, 督办 at an overdue deadline, unrated answers closed) at their due times in
between, exactly as the timer worker would. Every change therefore goes through the functions the
chat commands and the console use (``routing``, ``staff_actions``, ``rating``, ``timers``), with
their events, audit entries, pushes and statistics: the seeded data is consistent by construction.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dialogs.ports import Place, TicketDraft
from storage.models import Staff, Ticket
from tickets import escalation, linking, rating, routing, staff_actions, timers
from tickets.context import Refused, Workflow
from tickets.intake_port import SqlIntakePort
from tickets.lifecycle import IllegalTransition

log = logging.getLogger(__name__)

Step = Callable[[AsyncSession, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Filing:
    citizen: str  # the citizen's chat id on ``channel`` (one citizen may file several)
    channel: str = "webchat"
    type_code: str = "complaint"
    topic_code: str = "urban"
    district: str | None = None
    address: str = ""
    details: str = "路灯坏了一个星期了，晚上很危险"
    phone: str | None = None
    city: str | None = None


@dataclass(slots=True)
class Script:
    flow: Workflow
    sessions: async_sessionmaker[AsyncSession]
    strict: bool = True  # a refused step raises (tests); else it is logged and skipped (the demo)
    numbers: dict[str, str] = field(default_factory=dict)  # the script's name for a ticket -> its number
    skipped: int = 0
    _steps: list[tuple[datetime, int, Step]] = field(default_factory=list)

    def _add(self, at: datetime, step: Step) -> None:
        self._steps.append((at, len(self._steps), step))

    async def _ticket(self, session: AsyncSession, key: str) -> Ticket:
        found = await self.flow.tickets.by_number(session, self.numbers[key])
        assert found is not None
        return found

    async def _staff(self, session: AsyncSession, name: str) -> Staff:
        found = await self.flow.staff.by_name(session, name)
        if found is None:
            raise LookupError(f"no staff member named {name!r}")
        return found

    def file(self, key: str, at: datetime, filing: Filing) -> None:
        async def step(session: AsyncSession, now: datetime) -> None:
            identity = await self.flow.identities.ref_for(session, filing.channel, "demo", filing.citizen, now, "zh")
            port = SqlIntakePort(
                session=session,
                tickets=self.flow.tickets,
                identity=identity,
                deadlines=self.flow.deadlines,
                tz=self.flow.tz,
                now=now,
                workflow=self.flow,
            )
            place = Place(city=filing.city, district=filing.district, address=filing.address)
            draft = TicketDraft(
                intake_key=uuid.uuid4().hex,
                type_code=filing.type_code,
                topic_code=filing.topic_code,
                place=place,
                details=filing.details,
                media=(),
                phone=filing.phone,
                locale="zh",
            )
            self.numbers[key] = (await port.file_ticket(draft)).number

        self._add(at, step)

    def _staff_step(
        self, key: str, name: str, at: datetime, act: Callable[[AsyncSession, Staff, Ticket, datetime], Awaitable[None]]
    ) -> None:
        async def step(session: AsyncSession, now: datetime) -> None:
            staff = await self._staff(session, name)
            ticket = await self._ticket(session, key)
            if not staff_actions.authorize(staff, ticket):
                raise Refused("staff_forbidden", number=ticket.number)
            await act(session, staff, ticket, now)

        self._add(at, step)

    def claim(self, key: str, name: str, at: datetime) -> None:
        self._staff_step(key, name, at, lambda s, staff, t, now: staff_actions.claim(self.flow, s, staff, t, now))

    def note(self, key: str, name: str, at: datetime, words: str) -> None:
        self._staff_step(key, name, at, lambda s, staff, t, now: staff_actions.note(self.flow, s, staff, t, words, now))

    def reply(self, key: str, name: str, at: datetime, answer: str = "已安排处理，问题已解决。") -> None:
        self._staff_step(
            key, name, at, lambda s, staff, t, now: staff_actions.reply(self.flow, s, staff, t, answer, now)
        )

    def transfer(self, key: str, name: str, at: datetime, department: str, reason: str = "不属于本部门职责") -> None:
        self._staff_step(
            key, name, at, lambda s, staff, t, now: routing.transfer(self.flow, s, staff, t, department, reason, now)
        )

    def extend(self, key: str, name: str, at: datetime, new_day: date, reason: str = "需要协调多个部门") -> None:
        self._staff_step(
            key, name, at, lambda s, staff, t, now: staff_actions.extend(self.flow, s, staff, t, new_day, reason, now)
        )

    def reject(self, key: str, name: str, at: datetime, reason: str = "不属于政务服务受理范围") -> None:
        self._staff_step(
            key, name, at, lambda s, staff, t, now: staff_actions.reject(self.flow, s, staff, t, reason, now)
        )

    def mark_duplicate(self, key: str, name: str, at: datetime, original_key: str) -> None:
        self._staff_step(
            key,
            name,
            at,
            lambda s, staff, t, now: linking.link(self.flow, s, staff, t, self.numbers[original_key], now),
        )

    def unlink(self, key: str, name: str, at: datetime) -> None:
        self._staff_step(key, name, at, lambda s, staff, t, now: linking.unlink(self.flow, s, staff, t, now))

    def clear_supervision(self, key: str, name: str, at: datetime, reason: str = "已约谈承办人，限期办结") -> None:
        """解除督办 by a supervisor."""
        self._staff_step(key, name, at, lambda s, staff, t, now: escalation.clear(self.flow, s, staff, t, reason, now))

    def urge(self, key: str, at: datetime) -> None:
        """The citizen's 催办 (a reminder before the deadline, a rung up after it)."""

        async def step(session: AsyncSession, now: datetime) -> None:
            ticket = await self._ticket(session, key)
            await escalation.urge(self.flow, session, ticket, f"citizen:{ticket.citizen_id}", now)

        self._add(at, step)

    def rate(self, key: str, at: datetime, score: int, comment: str = "") -> None:
        async def step(session: AsyncSession, now: datetime) -> None:
            ticket = await self._ticket(session, key)
            await rating.rate(self.flow, session, ticket, score, comment, f"citizen:{ticket.citizen_id}", now)

        self._add(at, step)

    async def _fire_timers(self, until: datetime) -> None:
        """Due timers, earliest first, each fired at its own due time (as the worker would)."""
        while True:
            async with self.sessions.begin() as session:
                due = await self.flow.timers.claim_due(session, until, 1)
                if not due:
                    return
                timer = due[0]
                await timers.fire(self.flow, session, timer.ticket_id, timers.TimerKind(timer.kind), timer.due_at)

    async def run(self, until: datetime) -> dict[str, str]:
        """Play every step in time order, with the timers due up to ``until``; the ticket numbers."""
        for at, _, step in sorted(self._steps, key=lambda s: (s[0], s[1])):
            await self._fire_timers(at)
            try:
                async with self.sessions.begin() as session:
                    await step(session, at)
            except (Refused, IllegalTransition, KeyError) as exc:
                if self.strict:
                    raise
                self.skipped += 1
                log.debug("scripted step at %s skipped: %s", at, exc)
        await self._fire_timers(until)
        self._steps.clear()
        return dict(self.numbers)
