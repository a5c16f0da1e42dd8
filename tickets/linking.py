"""关联 / 取消关联 (and 重复, the same act): staff say a ticket is the same matter as an earlier,
still open one. Never automatic, and never a merge: both tickets stay.

The linked ticket becomes a 重复件 (status ``duplicate``): it leaves its department's queue and its
deadlines, reminders and 督办 stop, and like every 重复件 it is left out of every KPI, so the matter
is counted once, on the original. Its citizen follows the original instead: they get its progress,
its answer and its rating prompt. 取消关联 undoes it: the ticket is back in its department's queue
as a new to-do with fresh deadlines (the time it spent linked is not held against anyone), its
citizen stops following and is told. That is the one way out of a final status, because a link is
staff's judgement and the ticket never had an answer of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.texts import text
from storage.models import Staff, Ticket
from tickets import changes, notices, timers
from tickets.context import Refused
from tickets.lifecycle import OPEN, Action, Status
from tickets.timers import ANSWER_TIMERS, RESPOND_TIMERS

if TYPE_CHECKING:
    from tickets.context import Workflow


async def link(
    flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, original_number: str, now: datetime
) -> None:
    repo = flow.duplicates.repo
    original = await flow.tickets.by_number(session, original_number.strip().upper())
    if original is None or original.id == ticket.id:
        raise Refused("staff_unknown_ticket", number=original_number)
    if await repo.link_of(session, ticket.id) is not None:
        raise Refused("link_exists", number=ticket.number)
    if Status(original.status) not in OPEN and original.status != Status.SUBMITTED:
        # A closed original would leave this citizen's matter unanswered.
        status = text(f"status_{original.status}", staff.locale)
        raise Refused("staff_duplicate_not_open", original=original.number, status=status)
    actor = f"staff:{staff.id}"
    await flow.move(session, ticket, Action.MARK_DUPLICATE, actor, now, original=original.number)
    changes.apply(ticket, changes.DuplicateOf(original.number))
    await flow.finish(session, ticket, now)
    await repo.link(session, ticket.id, original.id, actor, now)
    if original.citizen_id == ticket.citizen_id:  # their own earlier one: they hear of it already
        await notices.push_status(flow, session, ticket, "push_duplicate", now, original=original.number)
    else:
        await repo.follow(
            session,
            ticket_id=original.id,
            citizen_id=ticket.citizen_id,
            identity_id=ticket.identity_id,
            locale=ticket.locale,
            source="link",
            now=now,
        )
        await notices.push_status(flow, session, ticket, "push_duplicate_other", now, original=original.number)
    await flow.tickets.add_event(session, ticket.id, "linked", actor, {"original": original.number}, now)
    await flow.tickets.add_event(session, original.id, "linked_from", actor, {"ticket": ticket.number}, now)
    await flow.audit.record(
        session,
        actor=actor,
        action="link",
        ticket_id=ticket.id,
        allowed=True,
        detail={"original": original.number},
        now=now,
    )


async def unlink(flow: Workflow, session: AsyncSession, staff: Staff, ticket: Ticket, now: datetime) -> None:
    repo = flow.duplicates.repo
    found = await repo.link_of(session, ticket.id)
    if found is None:
        raise Refused("link_none", number=ticket.number)
    actor = f"staff:{staff.id}"
    original = await session.get(Ticket, found.original_id)
    original_number = original.number if original is not None else "-"
    await repo.unlink(session, ticket.id)
    await repo.unfollow(session, found.original_id, ticket.citizen_id, "link")
    await flow.tickets.add_event(session, ticket.id, "unlinked", actor, {"original": original_number}, now)
    await flow.audit.record(
        session, actor=actor, action="unlink", ticket_id=ticket.id, allowed=True, detail={}, now=now
    )
    if ticket.status != Status.DUPLICATE:  # linked before links made a 重复件: nothing else to undo
        return
    fresh = flow.deadlines.deadlines(ticket.type_code, ticket.topic_code, now)
    await flow.move(session, ticket, Action.UNLINK, actor, now)
    changes.apply(ticket, changes.Unlinked(respond_due=fresh.respond_due, answer_due=fresh.answer_due))
    await timers.schedule(flow, session, ticket, (*RESPOND_TIMERS, *ANSWER_TIMERS), now)
    await notices.send_card(flow, session, ticket, now, "card_unlinked", original=original_number)
    await notices.push_status(flow, session, ticket, "push_unlinked", now)
