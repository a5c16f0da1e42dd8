"""What an operator watches: each department's open and overdue tickets, departments that receive
tickets but have nobody to handle them, and pushes that did not reach the citizen.

For console-web: ``undelivered(flow, session, viewer=staff)`` -> ``UndeliveredPush`` rows (dead
and held pushes; supervisors and admins only, like the chat's ``失败`` command: raises ``Refused``
otherwise). The runtime (``bot.console_ops``) calls ``department_load`` every minute for the
``/metrics`` gauges and ``unstaffed_departments`` at start for the warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Staff, Ticket
from tickets import staff_actions
from tickets.context import Refused, Workflow
from tickets.lifecycle import OPEN, Status
from tickets.routing import Directory

QUEUED = [s.value for s in (Status.SUBMITTED, *OPEN)]
UNCLAIMED = [Status.SUBMITTED.value, Status.ACCEPTED.value, Status.REOPENED.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class DepartmentLoad:
    department_code: str
    open: int  # submitted or being handled
    overdue: int  # of those, a deadline passed and not met (as the queue's ``overdue`` filter)


@dataclass(frozen=True, slots=True, kw_only=True)
class UndeliveredPush:
    number: str
    channel: str
    status: str  # dead | held
    attempts: int
    last_error: str | None
    created_at: datetime


async def department_load(session: AsyncSession, directory: Directory, *, now: datetime) -> list[DepartmentLoad]:
    """Per department of the directory, one index range each (``ix_tickets_department_due``):
    grouping all open tickets at once would read the whole index on SQLite."""
    overdue = or_(
        and_(Ticket.status.in_(UNCLAIMED), Ticket.respond_due_at < now),
        Ticket.answer_due_at < now,
    )
    loads = []
    for dept in directory.departments:
        stmt = select(func.count(), func.sum(case((overdue, 1), else_=0))).where(
            Ticket.department_code == dept.code, Ticket.status.in_(QUEUED)
        )
        total, late = (await session.execute(stmt)).one()
        loads.append(DepartmentLoad(department_code=dept.code, open=int(total or 0), overdue=int(late or 0)))
    return loads


async def unstaffed_departments(session: AsyncSession, directory: Directory) -> list[str]:
    """Departments that routing can give tickets to (they own topics or districts) but that have no
    active staff member at all: their tickets would reach only the admins' desks, silently."""
    stmt = select(Staff.department_code).where(Staff.active.is_(True)).distinct()
    staffed = set((await session.execute(stmt)).scalars())
    return [d.code for d in directory.departments if (d.topics or d.districts) and d.code not in staffed]


async def undelivered(
    flow: Workflow, session: AsyncSession, *, viewer: Staff, limit: int = 50
) -> list[UndeliveredPush]:
    """Dead and held pushes about the viewer's department's tickets (admins: all), newest first."""
    if not staff_actions.supervises(viewer):
        raise Refused("staff_forbidden_list")
    rows = await staff_actions.dead_letters(flow, session, viewer, limit)
    return [
        UndeliveredPush(
            number=number,
            channel=message.channel,
            status=message.status,
            attempts=message.attempts,
            last_error=message.last_error,
            created_at=message.created_at,
        )
        for number, message in rows
    ]
