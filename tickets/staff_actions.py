"""What staff do to a ticket: 接单, 备注, 回复, 延期, 不予受理, 办结, 重复, and what they may list.

Authorization (own department, admins on all) is checked by ``tickets.staff_desk`` before any of
these run; each one is a whole change in the caller's transaction (see ``tickets.context``). 转办
and 改类 are in ``tickets.routing``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.formatting import day
from storage.models import OutboxMessage, Staff, Ticket
from storage.staff import Role
from tickets import changes, notices, timers
from tickets.context import Refused
from tickets.lifecycle import OPEN, Action, Status
from tickets.timers import ANSWER_TIMERS, RATING_TIMERS, RESPOND_TIMERS

if TYPE_CHECKING:
    from tickets.context import Workflow

SUPERVISING = (Role.SUPERVISOR, Role.ADMIN)  # who may extend a deadline or see failed pushes


def authorize(staff: Staff, ticket: Ticket) -> bool:
    return staff.role == Role.ADMIN or ticket.department_code == staff.department_code


def supervises(staff: Staff) -> bool:
    return staff.role in SUPERVISING


def actor(staff: Staff) -> str:
    return f"staff:{staff.id}"


async def refuse(
    flow: Workflow, session: AsyncSession, staff: Staff, action: str, ticket: Ticket | None, why: str, now: datetime
) -> None:
    await flow.audit.record(
        session,
        actor=actor(staff),
        action=action,
        ticket_id=ticket.id if ticket else None,
        allowed=False,
        detail={"why": why},
        now=now,
    )


async def viewed(flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, now: datetime) -> None:
    """Looking at a citizen's full details (phone included) is an action too: audited."""
    await flow.audit.record(
        session, actor=actor(staff), action="show", ticket_id=ticket.id, allowed=True, detail={}, now=now
    )


async def listed(flow: Workflow, session: AsyncSession, staff: Staff, what: str, now: datetime) -> None:
    await flow.audit.record(session, actor=actor(staff), action=what, ticket_id=None, allowed=True, detail={}, now=now)


async def claim(flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, now: datetime) -> None:
    await flow.move(session, ticket, Action.CLAIM, actor(staff), now, staff=staff.name)
    changes.apply(ticket, changes.Claimed(staff.id, now))
    await timers.cancel(flow, session, ticket, RESPOND_TIMERS)
    await notices.push_status(
        flow, session, ticket, "push_assigned", now, department=flow.dept_name(ticket, ticket.locale)
    )


async def assign(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, colleague_said: str, now: datetime
) -> Staff:
    """分派: give the ticket to an active colleague of its department (by name or staff id).
    Supervisors and admins assign any ticket; a handler, one nobody holds or they hold themselves.
    The first time the ticket is taken up it counts as its claim (签收) and the citizen hears it,
    as with 接单; the colleague gets the card."""
    colleague = await _colleague(flow, session, colleague_said.strip())
    if colleague is None or not colleague.active or colleague.department_code != ticket.department_code:
        raise Refused("staff_unknown_colleague", who=colleague_said, number=ticket.number)
    holder = ticket.assignee_staff_id
    if not supervises(staff) and holder not in (None, staff.id):
        held_by = await flow.staff.get(session, holder) if holder is not None else None
        raise Refused("staff_assign_not_yours", number=ticket.number, holder=held_by.name if held_by else "-")
    first_time = ticket.status in (Status.ACCEPTED, Status.REOPENED)
    await flow.move(session, ticket, Action.ASSIGN, actor(staff), now, staff=colleague.name, by=staff.name)
    changes.apply(ticket, changes.Claimed(colleague.id, now))
    await timers.cancel(flow, session, ticket, RESPOND_TIMERS)
    if first_time:
        await notices.push_status(
            flow, session, ticket, "push_assigned", now, department=flow.dept_name(ticket, ticket.locale)
        )
    if colleague.id != staff.id:
        await notices.send_assignment_card(flow, session, colleague, ticket, by=staff.name, now=now)
    return colleague


async def _colleague(flow: Workflow, session: AsyncSession, said: str) -> Staff | None:
    if said.isdigit():
        return await flow.staff.get(session, int(said))
    return await flow.staff.by_name(session, said)


async def note(flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, text: str, now: datetime) -> None:
    await flow.move(session, ticket, Action.NOTE, actor(staff), now, note=text)


async def reply(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, answer: str, now: datetime
) -> None:
    if ticket.status == Status.ACCEPTED or ticket.status == Status.REOPENED:
        await claim(flow, session, staff, ticket, now)  # answering implies taking it up
    await flow.move(session, ticket, Action.REPLY, actor(staff), now, answer=answer, staff=staff.name)
    changes.apply(ticket, changes.Answered(staff.id, now))
    await timers.cancel(flow, session, ticket, RESPOND_TIMERS + ANSWER_TIMERS)
    await timers.schedule(flow, session, ticket, RATING_TIMERS, now)
    await notices.push_status(
        flow, session, ticket, "push_answered", now, department=flow.dept_name(ticket, ticket.locale), answer=answer
    )
    await notices.tell_citizen(flow, session, ticket, notices.rating_prompt(ticket), now)
    await notices.ask_followers_to_rate(flow, session, ticket, now)


async def extend(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, new_day: date, reason: str, now: datetime
) -> None:
    if not supervises(staff):
        raise Refused("staff_supervisor_only")
    new_due = datetime.combine(new_day, time(23, 59, 59), flow.tz)
    if new_due <= ticket.answer_due_at:
        raise Refused("staff_bad_date")
    await flow.move(session, ticket, Action.EXTEND, actor(staff), now, reason=reason, due=new_due.isoformat())
    changes.apply(ticket, changes.Extended(new_due))
    await timers.schedule(flow, session, ticket, ANSWER_TIMERS, now)
    await notices.push_status(
        flow, session, ticket, "push_extended", now, answer_due=day(new_due, ticket.locale, flow.tz), reason=reason
    )


async def reject(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, reason: str, now: datetime
) -> None:
    await flow.move(session, ticket, Action.REJECT, actor(staff), now, reason=reason)
    await flow.finish(session, ticket, now)
    await notices.push_status(flow, session, ticket, "push_rejected", now, reason=reason)


async def close(flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, now: datetime) -> None:
    await flow.move(session, ticket, Action.CLOSE, actor(staff), now)
    await flow.finish(session, ticket, now)
    await notices.push_status(flow, session, ticket, "push_closed", now, linked=False)


async def queue(flow: Workflow, session: AsyncSession, staff: Staff, limit: int = 20) -> list[Ticket]:
    """待办: open tickets of the staff member's department (all, for admins) by answer due time."""
    return await flow.tickets.queue(
        session,
        statuses=[s.value for s in (*OPEN, Status.SUBMITTED)],
        department_code=None if staff.role == Role.ADMIN else staff.department_code,
        limit=limit,
    )


async def dead_letters(
    flow: Workflow, session: AsyncSession, staff: Staff, limit: int = 20
) -> list[tuple[str, OutboxMessage]]:
    """Pushes that could not be delivered (dead) or wait for the citizen to write again (held,
    outside the platform's reply window): staff may need to reach those citizens another way."""
    return await flow.tickets.undelivered_pushes(
        session,
        department_code=None if staff.role == Role.ADMIN else staff.department_code,
        exclude_channel=notices.STAFF_WEB,
        limit=limit,
    )
