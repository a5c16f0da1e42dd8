"""What a citizen does to a ticket after filing: 补充 (reaches the handler) and 撤回. Ratings are
in ``tickets.rating``; which ticket a citizen may touch is decided by ``tickets.intake_port``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.privacy import mask_personal_data
from storage.models import Ticket
from tickets import notices
from tickets.lifecycle import Action, Status, transition

if TYPE_CHECKING:
    from tickets.context import Workflow


async def supplement(
    flow: Workflow, session: AsyncSession, ticket: Ticket, addition: str, actor: str, now: datetime
) -> None:
    transition(Status(ticket.status), Action.SUPPLEMENT)  # refuses closed tickets
    await flow.tickets.add_event(session, ticket.id, "supplement", actor, {"text": addition}, now)
    await flow.audit.record(
        session, actor=actor, action="supplement", ticket_id=ticket.id, allowed=True, detail={}, now=now
    )
    if ticket.assignee_staff_id is not None:
        assignee = await flow.staff.get(session, ticket.assignee_staff_id)
        people = [assignee] if assignee is not None else []
    else:
        people = await flow.handlers(session, ticket.department_code)
    await notices.notify_staff(flow, session, people, ticket, "card_supplement", now, text=mask_personal_data(addition))


async def withdraw(flow: Workflow, session: AsyncSession, ticket: Ticket, actor: str, now: datetime) -> None:
    await flow.move(session, ticket, Action.WITHDRAW, actor, now)
    await flow.finish(session, ticket, now)
