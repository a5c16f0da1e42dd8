"""Routing (首问负责) and transfer (转办, 改类): which department owns a ticket, and moving it.

Someone always owns a ticket: routing falls back to the default department, and a transfer goes
back to "accepted" in the new department with a fresh respond deadline, its push and its card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.taxonomy import Bilingual, Topic
from dialogs.texts import text
from storage import corrections
from storage.models import Staff, Ticket
from tickets import changes, notices, timers
from tickets.context import Refused
from tickets.lifecycle import OPEN, Action, Status
from tickets.timers import ANSWER_TIMERS, RESPOND_TIMERS

if TYPE_CHECKING:
    from tickets.context import Workflow


@dataclass(frozen=True, slots=True, kw_only=True)
class DepartmentInfo:
    code: str
    name: Bilingual
    topics: tuple[str, ...]
    districts: tuple[str, ...]
    telegram_chat_id: str | None = None  # the department's staff group


@dataclass(frozen=True, slots=True, kw_only=True)
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


async def route_new(flow: Workflow, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """Routing happens while the ticket is filed, so the filing reply ("提交成功 … 已受理，由【…】
    办理") already tells the citizen. No separate "已受理" push: it was written to the outbox in
    this transaction and could arrive before the reply (a passive reply or HTTP answer races the
    outbox worker; a reply that goes through the outbox queues behind it, per-chat order)."""
    department = flow.directory.route(ticket.topic_code, ticket.district)
    await flow.move(session, ticket, Action.ROUTE, "system", now, to_department=department, department=department)
    await timers.schedule(flow, session, ticket, RESPOND_TIMERS + ANSWER_TIMERS, now)
    await notices.send_card(flow, session, ticket, now, extra_key=None)


async def transfer(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, target: str, reason: str, now: datetime
) -> None:
    dept = flow.directory.get(target)
    if dept is None:
        codes = ", ".join(d.code for d in flow.directory.departments)
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
    await flow.move(
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
    policy = flow.deadlines.policy_for(ticket.type_code, ticket.topic_code)
    changes.apply(ticket, changes.Unassigned(respond_due=now + timedelta(hours=policy.respond_hours), at=now))
    await timers.schedule(flow, session, ticket, RESPOND_TIMERS, now)
    await notices.push_status(
        flow, session, ticket, "push_transferred", now, department=dept.name.get(ticket.locale), reason=reason
    )
    source_name = flow.directory.name(source)
    await notices.send_card(
        flow,
        session,
        ticket,
        now,
        extra_key="card_transferred",
        from_department=source_name.zh if source_name else source,
        reason=reason,
    )


async def retopic(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, topic_said: str, reason: str, now: datetime
) -> None:
    """改类: the ticket's topic was wrong. The correction is kept as a label for the classifier
    (``wenzheng model train``) and, while the ticket is open, it moves to the department that
    owns the new topic (an ordinary 转办, with its push and card) when that is another one."""
    topic = topic_named(flow, topic_said)
    loc = staff.locale
    if topic.code == ticket.topic_code:
        raise Refused("staff_same_topic", number=ticket.number, topic=topic.name.get(loc))
    old = ticket.topic_code
    await flow.move(session, ticket, Action.RETOPIC, f"staff:{staff.id}", now, topic=topic.code, old_topic=old)
    changes.apply(ticket, changes.Retopiced(topic.code))
    await corrections.record(
        session,
        ticket=ticket,
        old_topic=old,
        new_topic=topic.code,
        source="retopic",
        actor=f"staff:{staff.id}",
        now=now,
    )
    target = flow.directory.route(topic.code, ticket.district)
    if Status(ticket.status) in OPEN and target != ticket.department_code:
        await transfer(flow, session, staff, ticket, target, reason or text("action_retopic", ticket.locale), now)


def topic_named(flow: Workflow, said: str) -> Topic:
    """A topic by its code, its name in either language (``urban``, ``城市管理``) or an
    unambiguous part of its Chinese name (``环境``)."""
    wanted = said.strip().lower()
    for topic in flow.taxonomy.topics:
        if wanted in (topic.code.lower(), topic.name.zh, topic.name.en.lower()):
            return topic
    partial = [t for t in flow.taxonomy.topics if wanted and wanted in t.name.zh]
    if len(partial) == 1:  # 环境 for 生态环境, when it names one topic only
        return partial[0]
    known = ", ".join(f"{t.code}({t.name.zh})" for t in flow.taxonomy.topics)
    raise Refused("staff_unknown_topic", topic=said, topics=known)
