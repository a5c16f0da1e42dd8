"""The ticket workflow: routing, every transition, notifications, timers, ratings.

Each public method runs inside the caller's transaction and does the whole of one change: the new
status (checked against ``bot.lifecycle``), a ticket event, an audit entry, the citizen's
notification and the staff's cards in the outbox, the timers that follow, and the department
statistics (``storage.stats``). Either all of it commits or none of it does, so a citizen is never
told about a change that did not happen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Choice, ConversationRef, Outbound, Purpose
from bot.lifecycle import FINAL, OPEN, Action, Status, transition
from bot.logs import mask_personal_data
from bot.outbox import Outbox
from bot.sla import DeadlineClock, OfficeHours
from dialogs.formatting import day, moment
from dialogs.staff_commands import Verb, button_id
from dialogs.taxonomy import Bilingual, Taxonomy, Topic
from dialogs.texts import text
from storage import corrections, stats
from storage.audit import AuditLog
from storage.identities import IdentityRepository
from storage.models import OutboxMessage, Staff, Ticket
from storage.ratings import RatingRepository
from storage.staff import StaffRepository
from storage.tickets import TicketRepository
from storage.timers import TimerRepository

log = logging.getLogger(__name__)

STAFF_WEB = "staffweb"
RESPOND_TIMERS = ("remind_respond", "overdue_respond")
ANSWER_TIMERS = ("remind_answer", "overdue_answer")
RATING_TIMERS = ("rating_expiry",)


@dataclass(frozen=True, slots=True)
class DepartmentInfo:
    code: str
    name: Bilingual
    topics: tuple[str, ...]
    districts: tuple[str, ...]
    telegram_chat_id: str | None = None  # the department's staff group


@dataclass(frozen=True, slots=True)
class Directory:
    """The departments from the config, in order; routing reads only this."""

    departments: tuple[DepartmentInfo, ...]
    default: str

    def get(self, code: str | None) -> DepartmentInfo | None:
        return next((d for d in self.departments if d.code == code), None)

    def name(self, code: str | None) -> Bilingual | None:
        found = self.get(code)
        return None if found is None else found.name

    def route(self, topic: str, district: str | None) -> str:
        """首问负责: the most specific department for the topic and district; the default owns the rest.
        A department matches by topic (within its districts, if it lists any) or, with no topics,
        by district alone."""
        best: tuple[int, int] | None = None
        chosen = self.default
        for position, dept in enumerate(self.departments):
            in_district = not dept.districts or (district is not None and district in dept.districts)
            if not in_district:
                continue
            by_topic = topic in dept.topics
            if not by_topic and (dept.topics or not dept.districts):
                continue
            score = (2 if by_topic else 0) + (1 if dept.districts else 0)
            if best is None or (score, -position) > best:
                best, chosen = (score, -position), dept.code
        return chosen


@dataclass(frozen=True, slots=True)
class WorkflowSettings:
    remind_before: timedelta
    rating_window: timedelta
    office_hours: OfficeHours | None = None  # reminders are kept inside them; None: any time


class Refused(Exception):
    """A staff or citizen action that is not allowed; ``key``/``values`` are the text to show."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def staff_ref(staff_id: int) -> ConversationRef:
    return ConversationRef(STAFF_WEB, "web", f"staff-{staff_id}")


class Workflow:
    def __init__(
        self,
        directory: Directory,
        taxonomy: Taxonomy,
        deadlines: DeadlineClock,
        settings: WorkflowSettings,
        tz: ZoneInfo,
        outbox: Outbox,
        tickets: TicketRepository,
        staff: StaffRepository,
        identities: IdentityRepository,
        audit: AuditLog,
        timers: TimerRepository,
        ratings: RatingRepository,
        staff_channels: frozenset[str] = frozenset(),
    ) -> None:
        self.directory = directory
        # Chat apps staff can be reached on (enabled channels); /staff always works.
        self._staff_channels = staff_channels
        self._taxonomy = taxonomy
        self._deadlines = deadlines
        self._settings = settings
        self._tz = tz
        self._outbox = outbox
        self._tickets = tickets
        self._staff = staff
        self._identities = identities
        self._audit = audit
        self._timers = timers
        self._ratings = ratings

    # --- plumbing -------------------------------------------------------------------------------

    async def _move(
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
        ticket.status = after.value
        if to_department is not None:
            ticket.department_code = to_department
        ticket.updated_at = now
        await stats.record_change(
            session,
            day=stats.local_day(ticket.created_at, self._tz),
            before=(source, before.value),
            after=(ticket.department_code, after.value),
        )
        detail = {"from": before.value, "to": after.value, **{k: v for k, v in data.items() if v is not None}}
        await self._tickets.add_event(session, ticket.id, action.value, actor, detail, now)
        await self._audit.record(
            session, actor=actor, action=action.value, ticket_id=ticket.id, allowed=True, detail=detail, now=now
        )

    async def _tell_citizen(self, session: AsyncSession, ticket: Ticket, message: Outbound, now: datetime) -> None:
        identity = await self._identities.get(session, ticket.identity_id)
        if identity is None or not identity.reachable:
            # Blocked or unsubscribed: nothing can reach them; the history still shows the change.
            await self._tickets.add_event(session, ticket.id, "notify_skipped", "system", {"why": "unreachable"}, now)
            return
        ref = ConversationRef(identity.channel, identity.account, identity.chat_id)
        await self._outbox.enqueue(session, ref, message, now, ticket_id=ticket.id)

    async def _tell_staff(
        self,
        session: AsyncSession,
        people: Sequence[Staff],
        build: Callable[[str], Outbound],
        ticket: Ticket,
        now: datetime,
    ) -> None:
        """Every channel a staff member is on: the /staff page always, plus their chat apps."""
        identities = await self._staff.identities(session, [p.id for p in people])
        for person in people:
            message = build(person.locale)
            await self._outbox.enqueue(session, staff_ref(person.id), message, now, ticket_id=ticket.id)
            for ident in identities:
                if ident.staff_id == person.id and ident.channel in self._staff_channels:
                    ref = ConversationRef(ident.channel, "staff", ident.external_id)
                    await self._outbox.enqueue(session, ref, message, now, ticket_id=ticket.id)

    async def _department_staff(self, session: AsyncSession, code: str | None, roles: Sequence[str]) -> list[Staff]:
        """The department's staff in those roles; its admins' colleagues when it has nobody yet,
        so a ticket of a department without staff is still seen by someone."""
        people = [] if code is None else await self._staff.of_department(session, code, roles)
        if not people:
            people = [s for s in await self._staff.all(session) if s.role == "admin" and s.active]
        return people

    async def _supervisors(self, session: AsyncSession, code: str | None) -> list[Staff]:
        """Supervisors of the department; admins when it has none, so an escalation always lands."""
        return await self._department_staff(session, code, ["supervisor"])

    def _dept_name(self, ticket: Ticket, locale: str) -> str:
        name = self.directory.name(ticket.department_code)
        return name.get(locale) if name else (ticket.department_code or "-")

    def _due(self, when: datetime, locale: str) -> str:
        return moment(when, locale, self._tz)

    # --- routing a new ticket ---------------------------------------------------------------------

    async def route_new(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        """Routing happens while the ticket is filed, so the filing reply ("提交成功 … 已受理，由【…】
        办理") already tells the citizen. No separate "已受理" push: it was written to the outbox in
        this transaction and could arrive before the reply (a passive reply or HTTP answer races the
        outbox worker; a reply that goes through the outbox queues behind it, per-chat order)."""
        department = self.directory.route(ticket.topic_code, ticket.district)
        await self._move(session, ticket, Action.ROUTE, "system", now, to_department=department, department=department)
        await self._schedule(session, ticket, RESPOND_TIMERS + ANSWER_TIMERS, now)
        await self._send_card(session, ticket, now, extra_key=None)

    async def _send_card(
        self, session: AsyncSession, ticket: Ticket, now: datetime, extra_key: str | None, **extra: object
    ) -> None:
        handlers = await self._department_staff(session, ticket.department_code, ["handler", "supervisor"])

        def build(locale: str) -> Outbound:
            card = self.card_text(ticket, locale)
            if extra_key is not None:
                card += "\n" + text(extra_key, locale, **extra)
            return Outbound(
                card,
                choices=(
                    Choice(button_id(Verb.CLAIM, ticket.number), text("btn_claim", locale)),
                    Choice(button_id(Verb.SHOW, ticket.number), text("btn_show", locale)),
                ),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            )

        await self._tell_staff(session, handlers, build, ticket, now)
        dept = self.directory.get(ticket.department_code)
        if dept is not None and dept.telegram_chat_id and "telegram" in self._staff_channels:
            # The staff group sees the card too; a reply to it answers the ticket (see the dispatcher).
            group = ConversationRef("telegram", "staff", dept.telegram_chat_id)
            await self._outbox.enqueue(session, group, build("zh"), now, ticket_id=ticket.id)

    def card_text(self, ticket: Ticket, locale: str) -> str:
        kind = self._taxonomy.type_by_code(ticket.type_code)
        topic = self._taxonomy.topic_by_code(ticket.topic_code)
        place = "".join(p for p in (ticket.city, ticket.district) if p) + (
            f" {ticket.address}" if ticket.address else ""
        )
        details = ticket.details if len(ticket.details) <= 500 else ticket.details[:500] + "…"
        return text(
            "card",
            locale,
            number=ticket.number,
            type=kind.name.get(locale) if kind else ticket.type_code,
            topic=topic.name.get(locale) if topic else ticket.topic_code,
            place=place.strip() or "-",
            details=mask_personal_data(details),  # cards may land in group chats
            photos=len(ticket.media),
            phone=mask_personal_data(ticket.phone) if ticket.phone else "-",
            respond_due=self._due(ticket.respond_due_at, locale),
            answer_due=self._due(ticket.answer_due_at, locale),
        )

    # --- timers ---------------------------------------------------------------------------------

    async def _schedule(self, session: AsyncSession, ticket: Ticket, kinds: Sequence[str], now: datetime) -> None:
        await self._timers.cancel(session, ticket.id, kinds)
        for kind in kinds:
            due = ticket.respond_due_at if kind in RESPOND_TIMERS else ticket.answer_due_at
            if kind in RATING_TIMERS:
                due = now + self._settings.rating_window
            elif kind.startswith("remind_"):
                deadline = due
                due = due - self._settings.remind_before
                office = self._settings.office_hours
                if office is not None:
                    moved = office.reminder_time(due, now=now, deadline=deadline)
                    if moved is None:
                        continue
                    due = moved
                if due <= now:
                    continue
            await self._timers.schedule(session, ticket.id, kind, due, now)

    async def fire_timer(self, session: AsyncSession, ticket_id: int, kind: str, now: datetime) -> None:
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None or Status(ticket.status) in FINAL:
            return
        if kind == "rating_expiry":
            if ticket.status == Status.ANSWERED:
                await self._move(session, ticket, Action.EXPIRE_RATING, "system", now)
                ticket.closed_at = now
                await self._tell_citizen(
                    session,
                    ticket,
                    Outbound(text("push_closed_unrated", ticket.locale, number=ticket.number), purpose=Purpose.STATUS),
                    now,
                )
            return
        due = ticket.respond_due_at if kind in RESPOND_TIMERS else ticket.answer_due_at
        if kind in RESPOND_TIMERS and ticket.responded_at is not None:
            return
        if kind in ANSWER_TIMERS and ticket.status not in OPEN:
            return
        if kind.startswith("remind_"):
            if ticket.assignee_staff_id is not None:
                assignee = await self._staff.get(session, ticket.assignee_staff_id)
                people = [assignee] if assignee is not None and assignee.active else []
            else:
                people = await self._department_staff(session, ticket.department_code, ["handler", "supervisor"])
        else:  # overdue: 督办, the supervisors hear about it and the ticket is marked
            ticket.escalated = True
            await self._tickets.add_event(session, ticket.id, "escalated", "system", {"why": kind}, now)
            await self._audit.record(
                session,
                actor="system",
                action="escalate",
                ticket_id=ticket.id,
                allowed=True,
                detail={"why": kind},
                now=now,
            )
            people = await self._supervisors(session, ticket.department_code)

        def build(locale: str) -> Outbound:
            return Outbound(
                text(kind, locale, number=ticket.number, due=self._due(due, locale)),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            )

        await self._tell_staff(session, people, build, ticket, now)

    # --- staff actions ----------------------------------------------------------------------------

    def authorize(self, staff: Staff, ticket: Ticket) -> bool:
        return staff.role == "admin" or ticket.department_code == staff.department_code

    async def refuse(
        self, session: AsyncSession, staff: Staff, action: str, ticket: Ticket | None, why: str, now: datetime
    ) -> None:
        await self._audit.record(
            session,
            actor=f"staff:{staff.id}",
            action=action,
            ticket_id=ticket.id if ticket else None,
            allowed=False,
            detail={"why": why},
            now=now,
        )

    async def viewed(self, session: AsyncSession, staff: Staff, ticket: Ticket, now: datetime) -> None:
        """Looking at a citizen's full details (phone included) is an action too: audited."""
        await self._audit.record(
            session, actor=f"staff:{staff.id}", action="show", ticket_id=ticket.id, allowed=True, detail={}, now=now
        )

    async def listed(self, session: AsyncSession, staff: Staff, what: str, now: datetime) -> None:
        await self._audit.record(
            session, actor=f"staff:{staff.id}", action=what, ticket_id=None, allowed=True, detail={}, now=now
        )

    async def claim(self, session: AsyncSession, staff: Staff, ticket: Ticket, now: datetime) -> None:
        await self._move(session, ticket, Action.CLAIM, f"staff:{staff.id}", now, staff=staff.name)
        ticket.assignee_staff_id = staff.id
        if ticket.responded_at is None:
            ticket.responded_at = now
        await self._timers.cancel(session, ticket.id, RESPOND_TIMERS)
        loc = ticket.locale
        await self._tell_citizen(
            session,
            ticket,
            Outbound(
                text("push_assigned", loc, number=ticket.number, department=self._dept_name(ticket, loc)),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            ),
            now,
        )

    async def note(self, session: AsyncSession, staff: Staff, ticket: Ticket, note: str, now: datetime) -> None:
        await self._move(session, ticket, Action.NOTE, f"staff:{staff.id}", now, note=note)

    async def reply(self, session: AsyncSession, staff: Staff, ticket: Ticket, answer: str, now: datetime) -> None:
        if ticket.status == Status.ACCEPTED or ticket.status == Status.REOPENED:
            await self.claim(session, staff, ticket, now)  # answering implies taking it up
        await self._move(session, ticket, Action.REPLY, f"staff:{staff.id}", now, answer=answer, staff=staff.name)
        ticket.answered_at = now
        ticket.answered_by_staff_id = staff.id
        await self._timers.cancel(session, ticket.id, RESPOND_TIMERS + ANSWER_TIMERS)
        await self._schedule(session, ticket, RATING_TIMERS, now)
        loc = ticket.locale
        dept = self._dept_name(ticket, loc)
        await self._tell_citizen(
            session,
            ticket,
            Outbound(
                text("push_answered", loc, department=dept, answer=answer, number=ticket.number),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            ),
            now,
        )
        await self._tell_citizen(session, ticket, self.rating_prompt(ticket), now)

    def rating_prompt(self, ticket: Ticket) -> Outbound:
        loc = ticket.locale
        return Outbound(
            text("rating_prompt", loc, number=ticket.number),
            choices=tuple(Choice(f"rate:{ticket.number}:{n}", text(f"rate_{n}", loc)) for n in (1, 2, 3)),
            purpose=Purpose.RATING,
            ticket_number=ticket.number,
        )

    async def transfer(
        self, session: AsyncSession, staff: Staff, ticket: Ticket, target: str, reason: str, now: datetime
    ) -> None:
        dept = self.directory.get(target)
        if dept is None:
            codes = ", ".join(d.code for d in self.directory.departments)
            raise Refused("staff_unknown_department", code=target, codes=codes)
        source = ticket.department_code
        if ticket.topic_code not in dept.topics and len(dept.topics) == 1:
            # Sent to a department that owns one other topic: the staff said what the topic is.
            await corrections.record(
                session,
                ticket=ticket,
                old_topic=ticket.topic_code,
                new_topic=dept.topics[0],
                source="transfer",
                actor=f"staff:{staff.id}",
                now=now,
            )
        await self._move(
            session,
            ticket,
            Action.TRANSFER,
            f"staff:{staff.id}",
            now,
            to_department=target,
            to=target,
            reason=reason,
            source=source,
        )
        ticket.assignee_staff_id = None
        ticket.responded_at = None
        policy = self._deadlines.policy_for(ticket.type_code, ticket.topic_code)
        ticket.respond_due_at = now + timedelta(hours=policy.respond_hours)
        await self._schedule(session, ticket, RESPOND_TIMERS, now)
        loc = ticket.locale
        await self._tell_citizen(
            session,
            ticket,
            Outbound(
                text("push_transferred", loc, number=ticket.number, department=dept.name.get(loc), reason=reason),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            ),
            now,
        )
        source_name = self.directory.name(source)
        await self._send_card(
            session,
            ticket,
            now,
            extra_key="card_transferred",
            from_department=source_name.zh if source_name else source,
            reason=reason,
        )

    async def retopic(
        self, session: AsyncSession, staff: Staff, ticket: Ticket, topic_said: str, reason: str, now: datetime
    ) -> None:
        """改类: the ticket's topic was wrong. The correction is kept as a label for the classifier
        (``wenzheng model train``) and, while the ticket is open, it moves to the department that
        owns the new topic (an ordinary 转办, with its push and card) when that is another one."""
        topic = self._topic_named(topic_said)
        loc = staff.locale
        if topic.code == ticket.topic_code:
            raise Refused("staff_same_topic", number=ticket.number, topic=topic.name.get(loc))
        old = ticket.topic_code
        await self._move(session, ticket, Action.RETOPIC, f"staff:{staff.id}", now, topic=topic.code, old_topic=old)
        ticket.topic_code = topic.code
        await corrections.record(
            session,
            ticket=ticket,
            old_topic=old,
            new_topic=topic.code,
            source="retopic",
            actor=f"staff:{staff.id}",
            now=now,
        )
        target = self.directory.route(topic.code, ticket.district)
        if Status(ticket.status) in OPEN and target != ticket.department_code:
            await self.transfer(session, staff, ticket, target, reason or text("action_retopic", ticket.locale), now)

    def _topic_named(self, said: str) -> Topic:
        """A topic by its code, its name in either language (``urban``, ``城市管理``) or an
        unambiguous part of its Chinese name (``环境``)."""
        wanted = said.strip().lower()
        for topic in self._taxonomy.topics:
            if wanted in (topic.code.lower(), topic.name.zh, topic.name.en.lower()):
                return topic
        partial = [t for t in self._taxonomy.topics if wanted and wanted in t.name.zh]
        if len(partial) == 1:  # 环境 for 生态环境, when it names one topic only
            return partial[0]
        known = ", ".join(f"{t.code}({t.name.zh})" for t in self._taxonomy.topics)
        raise Refused("staff_unknown_topic", topic=said, topics=known)

    async def extend(
        self, session: AsyncSession, staff: Staff, ticket: Ticket, new_day: date, reason: str, now: datetime
    ) -> None:
        if staff.role not in ("supervisor", "admin"):
            raise Refused("staff_supervisor_only")
        new_due = datetime.combine(new_day, time(23, 59, 59), self._tz)
        if new_due <= ticket.answer_due_at:
            raise Refused("staff_bad_date")
        await self._move(
            session, ticket, Action.EXTEND, f"staff:{staff.id}", now, reason=reason, due=new_due.isoformat()
        )
        ticket.answer_due_at = new_due
        await self._schedule(session, ticket, ANSWER_TIMERS, now)
        loc = ticket.locale
        await self._tell_citizen(
            session,
            ticket,
            Outbound(
                text("push_extended", loc, number=ticket.number, answer_due=day(new_due, loc, self._tz), reason=reason),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            ),
            now,
        )

    async def reject(self, session: AsyncSession, staff: Staff, ticket: Ticket, reason: str, now: datetime) -> None:
        await self._move(session, ticket, Action.REJECT, f"staff:{staff.id}", now, reason=reason)
        await self._finish(session, ticket, now)
        await self._tell_citizen(
            session,
            ticket,
            Outbound(
                text("push_rejected", ticket.locale, number=ticket.number, reason=reason),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            ),
            now,
        )

    async def close(self, session: AsyncSession, staff: Staff, ticket: Ticket, now: datetime) -> None:
        await self._move(session, ticket, Action.CLOSE, f"staff:{staff.id}", now)
        await self._finish(session, ticket, now)
        await self._tell_citizen(
            session,
            ticket,
            Outbound(text("push_closed", ticket.locale, number=ticket.number), purpose=Purpose.STATUS),
            now,
        )

    async def mark_duplicate(
        self, session: AsyncSession, staff: Staff, ticket: Ticket, original: str, now: datetime
    ) -> None:
        first = await self._tickets.by_number(session, original)
        if first is None or first.id == ticket.id:
            raise Refused("staff_unknown_ticket", number=original)
        await self._move(session, ticket, Action.MARK_DUPLICATE, f"staff:{staff.id}", now, original=original)
        ticket.duplicate_of = original
        await self._finish(session, ticket, now)
        await self._tell_citizen(
            session,
            ticket,
            Outbound(
                text("push_duplicate", ticket.locale, number=ticket.number, original=original),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            ),
            now,
        )

    async def _finish(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        ticket.closed_at = now
        await self._timers.cancel(session, ticket.id)

    async def queue(self, session: AsyncSession, staff: Staff, limit: int = 20) -> list[Ticket]:
        stmt = select(Ticket).where(Ticket.status.in_([s.value for s in (*OPEN, Status.SUBMITTED)]))
        if staff.role != "admin":
            stmt = stmt.where(Ticket.department_code == staff.department_code)
        stmt = stmt.order_by(Ticket.answer_due_at, Ticket.id).limit(limit)
        return list((await session.execute(stmt)).scalars())

    async def dead_letters(
        self, session: AsyncSession, staff: Staff, limit: int = 20
    ) -> list[tuple[str, OutboxMessage]]:
        """Pushes that could not be delivered (dead) or wait for the citizen to write again (held,
        outside the platform's reply window): staff may need to reach those citizens another way."""
        stmt = (
            select(Ticket.number, OutboxMessage)
            .join(Ticket, Ticket.id == OutboxMessage.ticket_id)
            .where(OutboxMessage.status.in_(("dead", "held")), OutboxMessage.channel != STAFF_WEB)
        )
        if staff.role != "admin":
            stmt = stmt.where(Ticket.department_code == staff.department_code)
        rows = await session.execute(stmt.order_by(OutboxMessage.id.desc()).limit(limit))
        return [(str(number), message) for number, message in rows.all()]

    # --- citizen actions --------------------------------------------------------------------------

    async def rate(
        self, session: AsyncSession, ticket: Ticket, score: int, comment: str, actor: str, now: datetime
    ) -> str:
        """Record a rating; the text key of what happened next (closed, reopened, escalated)."""
        if ticket.status != Status.ANSWERED:
            raise Refused("rating_not_pending", number=ticket.number)
        await self._ratings.add(
            session,
            ticket_id=ticket.id,
            score=score,
            comment=comment,
            department_code=ticket.department_code,
            staff_id=ticket.answered_by_staff_id,
            round_=ticket.rework_count,
            now=now,
            local_day=stats.local_day(now, self._tz),
        )
        await self._timers.cancel(session, ticket.id, RATING_TIMERS)
        if score in (1, 2):
            await self._move(session, ticket, Action.RATE_SATISFIED, actor, now, score=score, comment=comment or None)
            ticket.closed_at = now
            return "rating_thanks"
        await self._move(session, ticket, Action.RATE_UNSATISFIED, actor, now, score=score, comment=comment or None)
        ticket.rework_count += 1
        policy = self._deadlines.policy_for(ticket.type_code, ticket.topic_code)
        ticket.answer_due_at = self._deadlines.deadlines(ticket.type_code, ticket.topic_code, now).answer_due
        ticket.respond_due_at = now + timedelta(hours=policy.respond_hours)
        await self._schedule(session, ticket, ANSWER_TIMERS, now)
        shown = comment or "-"
        if ticket.rework_count >= 2:  # a second 不满意: 督办
            ticket.escalated = True
            await self._tickets.add_event(session, ticket.id, "escalated", "system", {"why": "unsatisfied_twice"}, now)
            people = await self._supervisors(session, ticket.department_code)
            key = "card_escalated"
            outcome = "push_escalated"
        else:
            people = await self._department_staff(session, ticket.department_code, ["handler", "supervisor"])
            if ticket.answered_by_staff_id is not None and all(p.id != ticket.answered_by_staff_id for p in people):
                answered_by = await self._staff.get(session, ticket.answered_by_staff_id)
                people += [answered_by] if answered_by is not None else []
            key = "card_reopened"
            outcome = "push_reopened"

        def build(locale: str) -> Outbound:
            return Outbound(
                text(key, locale, number=ticket.number, comment=mask_personal_data(shown))
                + "\n"
                + self.card_text(ticket, locale),
                choices=(Choice(button_id(Verb.CLAIM, ticket.number), text("btn_claim", locale)),),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            )

        await self._tell_staff(session, people, build, ticket, now)
        return outcome

    async def supplement(self, session: AsyncSession, ticket: Ticket, addition: str, actor: str, now: datetime) -> None:
        transition(Status(ticket.status), Action.SUPPLEMENT)  # refuses closed tickets
        await self._tickets.add_event(session, ticket.id, "supplement", actor, {"text": addition}, now)
        await self._audit.record(
            session, actor=actor, action="supplement", ticket_id=ticket.id, allowed=True, detail={}, now=now
        )
        if ticket.assignee_staff_id is not None:
            assignee = await self._staff.get(session, ticket.assignee_staff_id)
            people = [assignee] if assignee is not None else []
        else:
            people = await self._department_staff(session, ticket.department_code, ["handler", "supervisor"])

        def build(locale: str) -> Outbound:
            return Outbound(
                text("card_supplement", locale, number=ticket.number, text=mask_personal_data(addition)),
                purpose=Purpose.STATUS,
                ticket_number=ticket.number,
            )

        await self._tell_staff(session, people, build, ticket, now)

    async def withdraw(self, session: AsyncSession, ticket: Ticket, actor: str, now: datetime) -> None:
        await self._move(session, ticket, Action.WITHDRAW, actor, now)
        await self._finish(session, ticket, now)
