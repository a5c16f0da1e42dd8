"""督办 that climbs: a ladder of rungs a late or contested ticket moves up, each step recorded.

The rungs, from the config (``workflow.escalation``):

- a reminder to the handler before each deadline, inside office hours (``tickets.timers``);
- 黄牌 (rung 1) to the department's supervisors when a deadline passes;
- 红牌 (rung 2) to the default department's supervisors and every admin when the ticket is still
  not answered ``red_after_working_days`` working days after that deadline.

A second 不满意, or a citizen's 催办 after the deadline, moves the ticket up one rung at once.
Supervisors list what is under 督办 and clear it with a reason (解除督办). Every step writes a
ticket event, an audit entry and a row in ``escalation_steps`` (what the scorecard counts), in the
caller's transaction, so a step is either wholly taken or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from adapters.base import Outbound, Purpose
from dialogs.ports import UrgeResult
from dialogs.texts import text
from storage.models import Staff, Ticket
from storage.staff import Role
from tickets import changes, notices
from tickets.context import Refused
from tickets.lifecycle import FINAL, OPEN, Status

if TYPE_CHECKING:
    from tickets.context import Workflow


class Rung(IntEnum):
    NONE = 0
    YELLOW = 1  # 黄牌: the department's supervisors
    RED = 2  # 红牌: the default department's supervisors and the admins


class Step(StrEnum):
    """What ``escalation_steps.step`` holds."""

    REMIND = "remind"
    YELLOW = "yellow"
    RED = "red"
    URGE = "urge"  # a citizen's 催办 before the deadline: the handler is reminded, no rung
    CLEARED = "cleared"


RED_TIMER = "red_card"  # the timer kind (``timers.kind``) of a pending 红牌


def _supervising(staff: Staff) -> bool:
    return staff.role in (Role.SUPERVISOR, Role.ADMIN)


def _actor(staff: Staff) -> str:
    return f"staff:{staff.id}"


async def _record(
    flow: Workflow,
    session: AsyncSession,
    ticket: Ticket,
    step: Step,
    cause: str,
    actor: str,
    now: datetime,
    reason: str = "",
) -> None:
    detail = {
        "step": step.value,
        "level": ticket.escalation_level,
        "cause": cause,
        **({"reason": reason} if reason else {}),
    }
    await flow.tickets.add_event(
        session,
        ticket.id,
        "escalated" if step in (Step.YELLOW, Step.RED) else f"supervision_{step.value}",
        actor,
        detail,
        now,
    )
    await flow.audit.record(
        session,
        actor=actor,
        action=f"supervision_{step.value}",
        ticket_id=ticket.id,
        allowed=True,
        detail=detail,
        now=now,
    )
    await flow.escalations.record(
        session, ticket=ticket, step=step.value, cause=cause, actor=actor, now=now, reason=reason
    )


async def red_audience(flow: Workflow, session: AsyncSession) -> list[Staff]:
    """The default department's supervisors and every active admin, each once."""
    people = await flow.staff.of_department(session, flow.directory.default, [Role.SUPERVISOR.value])
    admins = [s for s in await flow.staff.all(session) if s.role == Role.ADMIN and s.active]
    seen = {p.id for p in people}
    return [*people, *(a for a in admins if a.id not in seen)]


async def reminded(flow: Workflow, session: AsyncSession, ticket: Ticket, cause: str, now: datetime) -> None:
    """The first rung: a reminder went to the handler (the notice itself is ``tickets.timers``'s)."""
    await _record(flow, session, ticket, Step.REMIND, cause, "system", now)


async def climb(
    flow: Workflow,
    session: AsyncSession,
    ticket: Ticket,
    cause: str,
    actor: str,
    now: datetime,
    *,
    due: datetime,
    announce_yellow: bool = True,
) -> Rung:
    """Up one rung (at most 红牌), recorded, and the rung's audience told (a 黄牌 from a second
    不满意 is announced by the rework card instead: ``announce_yellow=False``). Reaching 黄牌 starts
    the 红牌 timer; reaching 红牌 stops it. Returns the rung reached."""
    rung = Rung(min(ticket.escalation_level + 1, Rung.RED))
    changes.apply(ticket, changes.Laddered(rung.value))
    await flow.timers.cancel(session, ticket.id, [RED_TIMER])
    if rung is Rung.YELLOW:
        await _record(flow, session, ticket, Step.YELLOW, cause, actor, now)
        red_at = flow.settings.ladder.red_due(due, flow.tz)
        await flow.timers.schedule(session, ticket.id, RED_TIMER, max(red_at, now), now)
        if announce_yellow:
            people = await flow.supervisors(session, ticket.department_code)
            key = cause if cause in ("overdue_respond", "overdue_answer") else "yellow_card"
            await _tell(flow, session, people, ticket, key, cause, due, now)
        return rung
    await _record(flow, session, ticket, Step.RED, cause, actor, now)
    await _tell(flow, session, await red_audience(flow, session), ticket, "red_card", cause, due, now)
    return rung


async def _tell(
    flow: Workflow,
    session: AsyncSession,
    people: list[Staff],
    ticket: Ticket,
    key: str,
    cause: str,
    due: datetime,
    now: datetime,
) -> None:
    def build(locale: str) -> Outbound:
        return Outbound(
            text(
                key,
                locale,
                number=ticket.number,
                due=flow.due(due, locale),
                department=flow.dept_name(ticket, locale),
                cause=text(f"supervision_cause_{cause}", locale),
            ),
            purpose=Purpose.STATUS,
            ticket_number=ticket.number,
        )

    await notices.tell_staff(flow, session, people, build, ticket, now)


async def deadline_passed(
    flow: Workflow, session: AsyncSession, ticket: Ticket, cause: str, due: datetime, now: datetime
) -> None:
    """A respond or answer deadline passed (a timer): 黄牌, unless the ticket is already on a rung
    (a second missed deadline is not a second card; the 红牌 timer is already running)."""
    if ticket.escalation_level >= Rung.YELLOW:
        return
    await climb(flow, session, ticket, cause, "system", now, due=due)


async def red_timer_fired(flow: Workflow, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """N working days after a 黄牌 deadline: 红牌, if still unanswered and not cleared meanwhile."""
    if Status(ticket.status) not in OPEN or ticket.escalation_level != Rung.YELLOW:
        return
    await climb(flow, session, ticket, "still_unanswered", "system", now, due=_deadline(ticket))


def _deadline(ticket: Ticket) -> datetime:
    return ticket.respond_due_at if ticket.responded_at is None else ticket.answer_due_at


async def urge(flow: Workflow, session: AsyncSession, ticket: Ticket, actor: str, now: datetime) -> UrgeResult:
    """A citizen's 催办: after the deadline, up one rung; before it, the handler is reminded.
    Only one 催办 per ``urge_interval`` counts, so repeating it is not a way to climb."""
    if Status(ticket.status) not in OPEN and ticket.status != Status.SUBMITTED:
        return UrgeResult.NOT_OPEN
    for step in (Step.URGE, Step.YELLOW, Step.RED):
        last = await flow.escalations.last(session, ticket.id, step.value)
        if last is not None and last.cause == "urge" and now - last.created_at < flow.settings.ladder.urge_interval:
            return UrgeResult.TOO_SOON
    deadline = _deadline(ticket)
    if now > deadline:
        await climb(flow, session, ticket, "urge", actor, now, due=deadline)
        return UrgeResult.CLIMBED
    await _record(flow, session, ticket, Step.URGE, "urge", actor, now)
    people = await flow.handlers(session, ticket.department_code)
    if ticket.assignee_staff_id is not None:
        assignee = await flow.staff.get(session, ticket.assignee_staff_id)
        people = [assignee] if assignee is not None and assignee.active else people
    await _tell(flow, session, people, ticket, "urged_before_deadline", "urge", deadline, now)
    return UrgeResult.REMINDED


async def clear(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, reason: str, now: datetime
) -> None:
    """解除督办: supervisors (and admins) take a ticket off the ladder, saying why."""
    if not _supervising(staff):
        raise Refused("supervision_clear_supervisors_only")
    if ticket.escalation_level == Rung.NONE:
        raise Refused("supervision_not_escalated", number=ticket.number)
    changes.apply(ticket, changes.Laddered(Rung.NONE.value))
    await flow.timers.cancel(session, ticket.id, [RED_TIMER])
    await _record(flow, session, ticket, Step.CLEARED, "cleared", _actor(staff), now, reason)


@dataclass(frozen=True, slots=True)
class Supervised:
    """A row of 督办列表 (and of the console's 督办 view)."""

    number: str
    rung: Rung
    department_code: str | None
    status: str
    deadline: datetime
    overdue: bool
    ticket_id: int


async def under_supervision(flow: Workflow, session: AsyncSession, staff: Staff, now: datetime) -> list[Supervised]:
    """What a supervisor should chase: their department's tickets on a rung; for the default
    department's supervisors and admins (who receive 红牌) every 红牌 as well; admins see all."""
    statuses = [s.value for s in (*OPEN, Status.SUBMITTED, Status.ANSWERED)]
    if staff.role == Role.ADMIN:
        rows = await flow.escalations.supervised(session, statuses=statuses, departments=None)
    else:
        rows = await flow.escalations.supervised(session, statuses=statuses, departments=[staff.department_code])
        if staff.department_code == flow.directory.default:
            seen = {t.id for t in rows}
            reds = await flow.escalations.supervised(session, statuses=statuses, departments=None, min_level=Rung.RED)
            rows += [t for t in reds if t.id not in seen]
    return [
        Supervised(
            number=t.number,
            rung=Rung(t.escalation_level),
            department_code=t.department_code,
            status=t.status,
            deadline=_deadline(t),
            overdue=_deadline(t) < now and Status(t.status) not in FINAL and t.status != Status.ANSWERED,
            ticket_id=t.id,
        )
        for t in rows
    ]
