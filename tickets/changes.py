"""Every change an action makes to a ticket's own fields, named, and the one function that applies
them. An action says *what* happened (``Claimed``, ``Answered``, ``Reworked``…); ``apply`` is the
only code in ``tickets/`` that writes a ``Ticket`` column, so what a change touches is read here.

Status and department move through ``Workflow.move`` (which applies ``Moved``), so the department
statistics move with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.models import Ticket
from tickets.lifecycle import Status


@dataclass(frozen=True, slots=True)
class Moved:
    """A new status (and, for routing and 转办, a new department)."""

    status: Status
    at: datetime
    department: str | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    """Taken up by a staff member; the first time counts as the response."""

    staff_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Unassigned:
    """转办 at ``at``: nobody holds it in the new department, which owes a response by ``respond_due``."""

    respond_due: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class Answered:
    staff_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Extended:
    answer_due: datetime


@dataclass(frozen=True, slots=True)
class Reworked:
    """不满意: another round, with fresh current deadlines (the first round's are kept)."""

    answer_due: datetime
    respond_due: datetime


@dataclass(frozen=True, slots=True)
class Rated:
    """A rating given; the ticket keeps the latest score (满意率 counts each ticket once)."""

    score: int


@dataclass(frozen=True, slots=True)
class Escalated:
    """督办."""


@dataclass(frozen=True, slots=True)
class Laddered:
    """督办 moved to rung ``level`` (0: cleared by a supervisor; see ``tickets.escalation``)."""

    level: int


@dataclass(frozen=True, slots=True)
class Closed:
    """A final status reached."""

    at: datetime


@dataclass(frozen=True, slots=True)
class DuplicateOf:
    original: str


@dataclass(frozen=True, slots=True)
class Unlinked:
    """取消关联: a 重复件 is a to-do again, owed a response and an answer from now, as if new (the
    time it spent linked is held against nobody); nobody holds it."""

    respond_due: datetime
    answer_due: datetime


@dataclass(frozen=True, slots=True)
class Retopiced:
    topic_code: str


Change = (
    Moved
    | Claimed
    | Unassigned
    | Answered
    | Extended
    | Reworked
    | Rated
    | Escalated
    | Laddered
    | Closed
    | DuplicateOf
    | Unlinked
    | Retopiced
)


def apply(ticket: Ticket, *changes: Change) -> None:
    for change in changes:
        match change:
            case Moved(status=status, at=at, department=department):
                ticket.status = status.value
                if department is not None:
                    ticket.department_code = department
                    if ticket.first_department_code is None:  # routing: the first owner
                        ticket.first_department_code = department
                ticket.updated_at = at
            case Claimed(staff_id=staff_id, at=at):
                ticket.assignee_staff_id = staff_id
                if ticket.responded_at is None:
                    ticket.responded_at = at
                if ticket.claimed_at is None:
                    ticket.claimed_at = at
            case Unassigned(respond_due=respond_due, at=at):
                if ticket.transferred_at is None:
                    ticket.transferred_at = at
                ticket.assignee_staff_id = None
                ticket.responded_at = None
                ticket.respond_due_at = respond_due
            case Answered(staff_id=staff_id, at=at):
                ticket.answered_at = at
                ticket.answered_by_staff_id = staff_id
                if ticket.first_answered_at is None:
                    ticket.first_answered_at = at
            case Extended(answer_due=answer_due):
                ticket.answer_due_at = answer_due
                if ticket.rework_count == 0:  # an approved 延期 of the first round counts for 按时办结
                    ticket.first_answer_due_at = answer_due
            case Reworked(answer_due=answer_due, respond_due=respond_due):
                ticket.rework_count += 1
                ticket.answer_due_at = answer_due
                ticket.respond_due_at = respond_due
            case Rated(score=score):
                ticket.latest_score = score
            case Escalated():
                ticket.escalated = True
            case Laddered(level=level):
                ticket.escalation_level = level
                ticket.escalated = level > 0
            case Closed(at=at):
                ticket.closed_at = at
            case DuplicateOf(original=original):
                ticket.duplicate_of = original
            case Unlinked(respond_due=respond_due, answer_due=answer_due):
                ticket.duplicate_of = None
                ticket.closed_at = None
                ticket.assignee_staff_id = None
                ticket.responded_at = None
                ticket.respond_due_at = respond_due
                ticket.answer_due_at = answer_due
                if ticket.rework_count == 0:  # 按时办结 is judged against this round's deadline
                    ticket.first_answer_due_at = answer_due
            case Retopiced(topic_code=topic_code):
                ticket.topic_code = topic_code
