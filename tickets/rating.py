"""The citizen's rating of an answer: 满意 / 基本满意 close the ticket, 不满意 reopens it for rework
(退回重办) once and escalates (督办) the second time, each with the staff's card."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import IntEnum
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import RatingResult
from storage import stats
from storage.models import Ticket
from tickets import changes, escalation, notices, timers
from tickets.context import Refused
from tickets.lifecycle import Action, Status
from tickets.timers import ANSWER_TIMERS, RATING_TIMERS

if TYPE_CHECKING:
    from tickets.context import Workflow


class Score(IntEnum):
    SATISFIED = 1  # 满意
    FAIRLY_SATISFIED = 2  # 基本满意
    UNSATISFIED = 3  # 不满意


async def rate(
    flow: Workflow, session: AsyncSession, ticket: Ticket, score: int, comment: str, actor: str, now: datetime
) -> RatingResult:
    """Record a rating and say what followed (closed, reopened, escalated)."""
    if ticket.status != Status.ANSWERED:
        raise Refused("rating_not_pending", number=ticket.number)
    await flow.ratings.add(
        session,
        ticket_id=ticket.id,
        score=score,
        comment=comment,
        department_code=ticket.department_code,
        staff_id=ticket.answered_by_staff_id,
        round_=ticket.rework_count,
        now=now,
        local_day=stats.local_day(now, flow.tz),
    )
    changes.apply(ticket, changes.Rated(score))
    await timers.cancel(flow, session, ticket, RATING_TIMERS)
    if score in (Score.SATISFIED, Score.FAIRLY_SATISFIED):
        await flow.move(session, ticket, Action.RATE_SATISFIED, actor, now, score=score, comment=comment or None)
        changes.apply(ticket, changes.Closed(now))
        return RatingResult.RECORDED
    await flow.move(session, ticket, Action.RATE_UNSATISFIED, actor, now, score=score, comment=comment or None)
    policy = flow.deadlines.policy_for(ticket.type_code, ticket.topic_code)
    changes.apply(
        ticket,
        changes.Reworked(
            answer_due=flow.deadlines.deadlines(ticket.type_code, ticket.topic_code, now).answer_due,
            respond_due=now + timedelta(hours=policy.respond_hours),
        ),
    )
    await timers.schedule(flow, session, ticket, ANSWER_TIMERS, now)
    if ticket.rework_count >= 2:  # a second 不满意: 督办 climbs a rung (tickets.escalation)
        await escalation.climb(
            flow, session, ticket, "unsatisfied_twice", actor, now, due=ticket.answer_due_at, announce_yellow=False
        )
        people = await flow.supervisors(session, ticket.department_code)
        key, outcome = "card_escalated", RatingResult.ESCALATED
    else:
        people = await flow.handlers(session, ticket.department_code)
        if ticket.answered_by_staff_id is not None and all(p.id != ticket.answered_by_staff_id for p in people):
            answered_by = await flow.staff.get(session, ticket.answered_by_staff_id)
            people += [answered_by] if answered_by is not None else []
        key, outcome = "card_reopened", RatingResult.REOPENED
    await notices.send_rework_card(flow, session, people, ticket, key, comment or "-", now)
    return outcome
