"""A follower's rating of the answer to a ticket they follow (关注 at filing, or 关联 by staff).

They are asked with the answer, like the ticket's own citizen, and may rate it while it waits for
a rating, or within the rating window after it closed (the ticket's citizen may have rated first).
The rating is kept on the ticket's history and shown to staff, but it is never part of a KPI: the
ticket's 满意率 is its own citizen's, so the matter counts once however many follow it. For the same
reason a follower's 不满意 does not reopen the ticket (its citizen may be satisfied); it reaches the
staff member who answered, with the reason. One rating per follower per answer: after a rework
(退回重办) the next answer is asked about again.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import RatingResult
from dialogs.privacy import mask_personal_data
from storage.models import Ticket
from tickets import notices
from tickets.lifecycle import Status

if TYPE_CHECKING:
    from tickets.context import Workflow

FOLLOWER_RATED = "follower_rated"  # the ticket event that holds one follower's rating
UNSATISFIED = 3


async def pending(flow: Workflow, session: AsyncSession, ticket: Ticket, citizen_id: int, now: datetime) -> bool:
    """Whether this citizen follows the ticket and may rate its latest answer now."""
    if ticket.answered_at is None or ticket.citizen_id == citizen_id:
        return False
    if ticket.status == Status.CLOSED:
        answered_at = ticket.answered_at if ticket.answered_at.tzinfo else ticket.answered_at.replace(tzinfo=now.tzinfo)
        if now - answered_at > flow.settings.rating_window:
            return False
    elif ticket.status != Status.ANSWERED:
        return False
    if not await flow.duplicates.repo.is_follower(session, ticket.id, citizen_id):
        return False
    return not any(
        e.kind == FOLLOWER_RATED and e.actor == _actor(citizen_id) and e.data.get("round") == ticket.rework_count
        for e in await flow.tickets.events(session, ticket.id)
    )


async def rate(
    flow: Workflow, session: AsyncSession, ticket: Ticket, citizen_id: int, score: int, comment: str, now: datetime
) -> RatingResult:
    if not await pending(flow, session, ticket, citizen_id, now):
        return RatingResult.NOT_PENDING
    actor = _actor(citizen_id)
    detail = {"score": score, "comment": comment, "round": ticket.rework_count}
    await flow.tickets.add_event(session, ticket.id, FOLLOWER_RATED, actor, detail, now)
    await flow.audit.record(
        session, actor=actor, action="follower_rate", ticket_id=ticket.id, allowed=True, detail=detail, now=now
    )
    if score == UNSATISFIED and ticket.answered_by_staff_id is not None:
        answered_by = await flow.staff.get(session, ticket.answered_by_staff_id)
        if answered_by is not None:
            await notices.notify_staff(
                flow,
                session,
                [answered_by],
                ticket,
                "follower_unsatisfied",
                now,
                comment=mask_personal_data(comment) or "-",
            )
    return RatingResult.RECORDED


async def tally(flow: Workflow, session: AsyncSession, ticket: Ticket) -> dict[int, int]:
    """Followers' ratings of the latest answer, by score: what staff see on the ticket."""
    counts: dict[int, int] = {}
    for e in await flow.tickets.events(session, ticket.id):
        if e.kind == FOLLOWER_RATED and e.data.get("round") == ticket.rework_count:
            score = int(e.data.get("score", 0))
            counts[score] = counts.get(score, 0) + 1
    return counts


def _actor(citizen_id: int) -> str:
    return f"citizen:{citizen_id}"
