"""Stored deadlines: reminders before them, 督办 after them, unrated answers closed.

``schedule`` writes a ticket's timers in the caller's transaction (rescheduling cancels the old
ones); ``fire`` is what a due timer does, called by the runtime's worker (``bot.timers``) in the
transaction that claimed it, so a timer fires fully or stays pending; a restart loses none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ticket
from tickets import changes, escalation, notices
from tickets.lifecycle import FINAL, OPEN, Action, Status

if TYPE_CHECKING:
    from tickets.context import Workflow


class TimerKind(StrEnum):
    """A timer's kind; the value is stored with the timer and is also the text key of its notice."""

    REMIND_RESPOND = "remind_respond"
    OVERDUE_RESPOND = "overdue_respond"
    REMIND_ANSWER = "remind_answer"
    OVERDUE_ANSWER = "overdue_answer"
    RATING_EXPIRY = "rating_expiry"
    RED_CARD = "red_card"  # 红牌 N working days after a 黄牌 (tickets.escalation)

    @property
    def is_reminder(self) -> bool:
        return self in (TimerKind.REMIND_RESPOND, TimerKind.REMIND_ANSWER)


RESPOND_TIMERS = (TimerKind.REMIND_RESPOND, TimerKind.OVERDUE_RESPOND)
ANSWER_TIMERS = (TimerKind.REMIND_ANSWER, TimerKind.OVERDUE_ANSWER)
RATING_TIMERS = (TimerKind.RATING_EXPIRY,)


async def cancel(flow: Workflow, session: AsyncSession, ticket: Ticket, kinds: Sequence[TimerKind]) -> None:
    await flow.timers.cancel(session, ticket.id, [k.value for k in kinds])


async def schedule(
    flow: Workflow, session: AsyncSession, ticket: Ticket, kinds: Sequence[TimerKind], now: datetime
) -> None:
    await cancel(flow, session, ticket, kinds)
    settings = flow.settings
    for kind in kinds:
        due = ticket.respond_due_at if kind in RESPOND_TIMERS else ticket.answer_due_at
        if kind in RATING_TIMERS:
            due = now + settings.rating_window
        elif kind.is_reminder:
            deadline = due
            due = due - settings.remind_before
            if settings.office_hours is not None:
                moved = settings.office_hours.reminder_time(due, now=now, deadline=deadline)
                if moved is None:
                    continue
                due = moved
            if due <= now:
                continue
        await flow.timers.schedule(session, ticket.id, kind.value, due, now)


async def fire(flow: Workflow, session: AsyncSession, ticket_id: int, kind: TimerKind, now: datetime) -> None:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or Status(ticket.status) in FINAL:
        return
    if kind is TimerKind.RATING_EXPIRY:
        if ticket.status == Status.ANSWERED:
            await flow.move(session, ticket, Action.EXPIRE_RATING, "system", now)
            changes.apply(ticket, changes.Closed(now))
            await notices.push_status(flow, session, ticket, "push_closed_unrated", now, linked=False)
        return
    if kind is TimerKind.RED_CARD:
        await escalation.red_timer_fired(flow, session, ticket, now)
        return
    due = ticket.respond_due_at if kind in RESPOND_TIMERS else ticket.answer_due_at
    if kind in RESPOND_TIMERS and ticket.responded_at is not None:
        return
    if kind in ANSWER_TIMERS and ticket.status not in OPEN:
        return
    if kind.is_reminder:
        if ticket.assignee_staff_id is not None:
            assignee = await flow.staff.get(session, ticket.assignee_staff_id)
            people = [assignee] if assignee is not None and assignee.active else []
        else:
            people = await flow.handlers(session, ticket.department_code)
    else:  # overdue: 督办 climbs to 黄牌 (tickets.escalation), which tells the supervisors
        await escalation.deadline_passed(flow, session, ticket, kind.value, due, now)
        return
    await notices.notify_staff(flow, session, people, ticket, kind.value, now, due=due)
    await escalation.reminded(flow, session, ticket, kind.value, now)
