"""Labels from staff: topic corrections (``改类``, 转办), and the tickets the training reads.

Plain functions over the caller's session, like ``storage.stats``: they hold no state. Rows are
only ever inserted; ``wenzheng model train`` reads them with the answered tickets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Ticket, TopicCorrection


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """One training example from the city's own tickets."""

    id: str
    text: str
    topic: str
    type_code: str
    source: str  # retopic | transfer | answered


async def record(
    session: AsyncSession,
    *,
    ticket: Ticket,
    old_topic: str,
    new_topic: str,
    source: str,
    actor: str,
    now: datetime,
) -> None:
    session.add(
        TopicCorrection(
            ticket_id=ticket.id,
            text=ticket.details,
            type_code=ticket.type_code,
            old_topic=old_topic,
            new_topic=new_topic,
            source=source,
            actor=actor,
            created_at=now,
        )
    )


async def labels(session: AsyncSession, answered_statuses: Sequence[str]) -> list[Label]:
    """Every ticket's newest correction, then answered tickets that were never corrected: their
    topic stood until a department answered, which is as good a label as the city has."""
    found: dict[int, Label] = {}
    rows = await session.execute(select(TopicCorrection).order_by(TopicCorrection.id))
    for c in rows.scalars():
        found[c.ticket_id] = Label(
            id=f"ticket:{c.ticket_id}", text=c.text, topic=c.new_topic, type_code=c.type_code, source=c.source
        )
    answered = await session.execute(
        select(Ticket.id, Ticket.details, Ticket.topic_code, Ticket.type_code).where(
            Ticket.status.in_(list(answered_statuses))
        )
    )
    for ticket_id, details, topic, kind in answered:
        if ticket_id not in found:
            found[ticket_id] = Label(
                id=f"ticket:{ticket_id}", text=details, topic=topic, type_code=kind, source="answered"
            )
    return list(found.values())
