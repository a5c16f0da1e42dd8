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


async def set_publication(
    flow: Workflow, session: AsyncSession, ticket: Ticket, consent: bool, actor: str, now: datetime
) -> None:
    """公开 / 不公开: the citizen's consent, kept on the ticket and in its history. A ticket staff
    hid stays hidden whatever the citizen says; withdrawing consent takes it off /public and out
    of the Open311 descriptions at once (the page cache keeps it at most its few seconds)."""
    if ticket.public_consent == consent:
        return
    ticket.public_consent = consent
    ticket.updated_at = now
    kind = "public_consent_given" if consent else "public_consent_withdrawn"
    await flow.tickets.add_event(session, ticket.id, kind, actor, {}, now)
    await flow.audit.record(session, actor=actor, action=kind, ticket_id=ticket.id, allowed=True, detail={}, now=now)


async def withdraw(flow: Workflow, session: AsyncSession, ticket: Ticket, actor: str, now: datetime) -> None:
    await flow.move(session, ticket, Action.WITHDRAW, actor, now)
    await flow.finish(session, ticket, now)
