"""The console's 督办 view: the rows of 督办列表 (``tickets.escalation.under_supervision``, the same
list and the same scope as the chat command) with what a supervisor needs to judge each one: the
ticket itself, and the cards of its current 督办 (since when, and why) from ``escalation_steps``.

For console-web: ``await supervision(flow, session, viewer=staff, now=)`` -> ``SupervisedTicket``
rows, red first; raises ``Refused`` for handlers (the list names other departments' late tickets,
like the chat's). Clearing one is ``StaffDesk.perform`` with ``Verb.UNSUPERVISE`` (解除督办), the
chat command's path. Two queries whatever the number of rows: the list, and the steps of all of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import EscalationStep, Staff, Ticket
from tickets import escalation, staff_actions
from tickets.context import Refused, Workflow
from tickets.escalation import Rung, Step, Supervised

CARDS = (Step.YELLOW.value, Step.RED.value)


@dataclass(frozen=True, slots=True)
class Card:
    """A 黄牌 or 红牌 of the ticket's current 督办."""

    rung: Rung
    at: datetime
    cause: str  # overdue_respond | overdue_answer | urge | unsatisfied_twice | still_unanswered


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisedTicket:
    row: Supervised
    ticket: Ticket
    cards: tuple[Card, ...]  # oldest first; empty for a ticket escalated before steps were kept
    may_clear: bool  # the viewer may 解除督办 it (a supervisor of its department, or an admin)

    @property
    def since(self) -> datetime | None:
        return self.cards[0].at if self.cards else None


def current_cards(steps: Sequence[EscalationStep]) -> tuple[Card, ...]:
    """The cards since the last 解除督办: a ticket cleared and carded again starts a new 督办."""
    cards: list[Card] = []
    for step in steps:
        if step.step == Step.CLEARED.value:
            cards = []
        elif step.step in CARDS:
            cards.append(Card(Rung(step.level), step.created_at, step.cause))
    return tuple(cards)


async def supervision(flow: Workflow, session: AsyncSession, *, viewer: Staff, now: datetime) -> list[SupervisedTicket]:
    if not staff_actions.supervises(viewer):
        raise Refused("staff_forbidden_list")
    rows = await escalation.under_supervision(flow, session, viewer, now)
    steps: dict[int, list[EscalationStep]] = {}
    for step in await flow.escalations.steps_of(session, [r.ticket_id for r in rows]):
        steps.setdefault(step.ticket_id, []).append(step)
    found = []
    for row in rows:
        ticket = await session.get(Ticket, row.ticket_id)  # loaded by the list: no query
        if ticket is None:
            continue
        found.append(
            SupervisedTicket(
                row=row,
                ticket=ticket,
                cards=current_cards(steps.get(row.ticket_id, [])),
                may_clear=staff_actions.authorize(viewer, ticket),
            )
        )
    return found
