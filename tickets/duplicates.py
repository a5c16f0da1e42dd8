"""Duplicates: the same matter already reported, found at filing and shown to staff; never merged.

A candidate is an open ticket (or one answered in the last ``answered_days``) on the same topic,
near in place (``citizen_radius_m`` for a citizen filing, ``staff_radius_m`` for staff suggestions:
FixMyStreet's 250 m / 1 km) or at the same named place (district and address), filed within
``lookback_days``, whose description is the same matter (``tickets.similarity``: object and
condition agree; weights and threshold fitted on labelled pairs). Before the summary, the citizen
is offered to follow it (关注) or file anyway; staff see suggestions
on ``查看`` and link (关联) or unlink (取消关联) them. A follower gets the ticket's pushes; a ticket
is counted once in every statistic. The same citizen filing the same matter within
``repeat_days`` is flagged 重复诉求 (stored, for the scorecard), and still filed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.ports import SimilarTicket, TicketDraft
from dialogs.privacy import mask_personal_data
from dialogs.texts import text
from storage.identities import IdentityRef
from storage.models import Ticket
from tickets.duplicate_finder import Match, Matter, distance_m
from tickets.lifecycle import OPEN, Status

if TYPE_CHECKING:
    from tickets.context import Workflow

# --- citizens: follow instead of filing again ---------------------------------------------------


async def follow(
    flow: Workflow, session: AsyncSession, ticket: Ticket, *, identity: IdentityRef, locale: str, now: datetime
) -> bool:
    """关注: the citizen gets this ticket's pushes from now on; False when it is theirs or closed."""
    citizen_id = identity.citizen_id
    if ticket.citizen_id == citizen_id or Status(ticket.status) not in (*OPEN, Status.SUBMITTED, Status.ANSWERED):
        return False
    added = await flow.duplicates.repo.follow(
        session,
        ticket_id=ticket.id,
        citizen_id=citizen_id,
        identity_id=identity.id,
        locale=locale,
        source="follow",
        now=now,
    )
    if added:
        actor = f"citizen:{citizen_id}"
        await flow.tickets.add_event(session, ticket.id, "followed", actor, {}, now)
        await flow.audit.record(
            session, actor=actor, action="follow", ticket_id=ticket.id, allowed=True, detail={}, now=now
        )
    return True


async def similar_for_citizen(
    flow: Workflow, session: AsyncSession, draft: TicketDraft, citizen_id: int, now: datetime
) -> list[SimilarTicket]:
    """What to offer a citizen before the summary: other citizens' tickets on the same matter within 250 m
    (or at the same named place); their own earlier ones are flagged 重复诉求 instead."""
    place = draft.place
    matter = Matter(
        topic_code=draft.topic_code,
        details=draft.details,
        district=place.district if place else None,
        address=place.address if place else "",
        lat=place.lat if place else None,
        lon=place.lon if place else None,
    )
    found = await flow.duplicates.find(
        session, matter, now, radius_m=flow.duplicates.rules.citizen_radius_m, exclude_citizen=citizen_id
    )
    return [
        SimilarTicket(
            number=m.ticket.number,
            status=m.ticket.status,
            details=mask_personal_data(m.ticket.details[:60] + ("…" if len(m.ticket.details) > 60 else "")),
        )
        for m in found
    ]


async def flag_repeat(flow: Workflow, session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
    """重复诉求: the same citizen, the same matter (topic, similar text, and near if both have a
    place) within ``repeat_days``. Stored and shown on the ticket's history; it is still filed."""
    finder = flow.duplicates
    earlier = await finder.repo.citizen_recent(
        session,
        citizen_id=ticket.citizen_id,
        topic_code=ticket.topic_code,
        since=now - timedelta(days=finder.rules.repeat_days),
        exclude_id=ticket.id,
    )
    if not earlier:
        return False
    wanted = finder.similarity.profile(ticket.details)
    matter = Matter.of(ticket)
    for other in earlier:
        distance = distance_m(matter, other)
        if distance is not None and distance > finder.rules.staff_radius_m:
            continue
        score = finder.similarity.compare(wanted, finder.similarity.profile(other.details))
        if score >= finder.rules.threshold:
            await finder.repo.flag_repeat(session, ticket=ticket, earlier=other, score=round(score, 3), now=now)
            await flow.tickets.add_event(
                session, ticket.id, "repeat_request", "system", {"earlier": other.number, "score": round(score, 3)}, now
            )
            return True
    return False


# --- staff: suggestions (关联 / 取消关联: tickets.linking) ------------------------------------------


async def suggestions(flow: Workflow, session: AsyncSession, ticket: Ticket, now: datetime) -> list[Match]:
    """Suggested duplicates of a ticket for staff (1 km), other citizens' and its own excluded."""
    return await flow.duplicates.find(
        session, Matter.of(ticket), now, radius_m=flow.duplicates.rules.staff_radius_m, exclude_ticket=ticket.id
    )


def suggestion_lines(flow: Workflow, matches: list[Match], locale: str) -> str:
    if not matches:
        return ""
    lines = [text("dup_suggest_title", locale)]
    for m in matches:
        where = (
            text("dup_same_place", locale)
            if m.distance_m is None
            else text("dup_distance", locale, metres=round(m.distance_m))
        )
        lines.append(
            text(
                "dup_suggest_line",
                locale,
                number=m.ticket.number,
                status=text(f"status_{m.ticket.status}", locale),
                score=f"{m.score:.2f}",
                where=where,
            )
        )
    return "\n".join(lines)
