"""The named ticket changes: each writes exactly its fields, in one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.models import Ticket
from tickets import changes
from tickets.lifecycle import Status

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _ticket() -> Ticket:
    return Ticket(status=Status.ACCEPTED.value, department_code="urban", rework_count=0, escalated=False)


def test_moved_sets_status_and_keeps_department_unless_given() -> None:
    ticket = _ticket()
    changes.apply(ticket, changes.Moved(Status.IN_PROGRESS, NOW))
    assert (ticket.status, ticket.department_code, ticket.updated_at) == (Status.IN_PROGRESS.value, "urban", NOW)
    changes.apply(ticket, changes.Moved(Status.ACCEPTED, NOW, "water"))
    assert ticket.department_code == "water"


def test_claimed_counts_the_first_claim_as_the_response() -> None:
    ticket = _ticket()
    changes.apply(ticket, changes.Claimed(7, NOW))
    changes.apply(ticket, changes.Claimed(8, NOW + timedelta(hours=1)))
    assert (ticket.assignee_staff_id, ticket.responded_at) == (8, NOW)


def test_unassigned_clears_the_holder_and_sets_a_new_response_due() -> None:
    ticket = _ticket()
    changes.apply(ticket, changes.Claimed(7, NOW), changes.Unassigned(respond_due=NOW + timedelta(hours=4)))
    assert (ticket.assignee_staff_id, ticket.responded_at) == (None, None)
    assert ticket.respond_due_at == NOW + timedelta(hours=4)


def test_reworked_escalated_closed_and_the_rest() -> None:
    ticket = _ticket()
    later = NOW + timedelta(days=5)
    changes.apply(
        ticket,
        changes.Answered(3, NOW),
        changes.Reworked(answer_due=later, respond_due=NOW + timedelta(hours=4)),
        changes.Escalated(),
        changes.Extended(later + timedelta(days=1)),
        changes.DuplicateOf("WZ20261201-0001"),
        changes.Retopiced("water"),
        changes.Closed(later),
    )
    assert (ticket.answered_by_staff_id, ticket.answered_at) == (3, NOW)
    assert ticket.rework_count == 1 and ticket.escalated
    assert ticket.answer_due_at == later + timedelta(days=1)
    assert (ticket.duplicate_of, ticket.topic_code, ticket.closed_at) == ("WZ20261201-0001", "water", later)
