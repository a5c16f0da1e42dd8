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
    changes.apply(ticket, changes.Claimed(7, NOW), changes.Unassigned(respond_due=NOW + timedelta(hours=4), at=NOW))
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


def test_the_first_round_is_kept_through_rework_transfer_and_second_answers() -> None:
    """Rework (退回重办) and 转办 set the current deadlines and holders; the scorecard reads the
    first round's, which nothing after it overwrites (migration 0011)."""
    ticket = _ticket()
    respond_due, answer_due = NOW + timedelta(hours=8), NOW + timedelta(days=9)
    ticket.respond_due_at, ticket.answer_due_at = respond_due, answer_due
    ticket.first_respond_due_at, ticket.first_answer_due_at = respond_due, answer_due
    later = NOW + timedelta(days=3)
    changes.apply(
        ticket,
        changes.Claimed(7, NOW + timedelta(hours=1)),
        changes.Unassigned(respond_due=NOW + timedelta(hours=12), at=NOW + timedelta(hours=2)),
        changes.Claimed(8, NOW + timedelta(hours=5)),
        changes.Answered(8, NOW + timedelta(days=1)),
        changes.Rated(3),
        changes.Reworked(answer_due=later + timedelta(days=9), respond_due=later + timedelta(hours=8)),
        changes.Escalated(),
        changes.Unassigned(respond_due=later + timedelta(hours=9), at=later + timedelta(hours=1)),
        changes.Answered(8, later + timedelta(days=1)),
        changes.Rated(1),
    )
    assert (ticket.first_respond_due_at, ticket.first_answer_due_at) == (respond_due, answer_due)
    assert ticket.respond_due_at == later + timedelta(hours=9)  # the current round's, for the timers
    assert ticket.claimed_at == NOW + timedelta(hours=1)
    assert ticket.transferred_at == NOW + timedelta(hours=2)
    assert (ticket.first_answered_at, ticket.answered_at) == (NOW + timedelta(days=1), later + timedelta(days=1))
    assert ticket.latest_score == 1


def test_an_extension_moves_the_first_answer_deadline_only_in_the_first_round() -> None:
    ticket = _ticket()
    first = NOW + timedelta(days=9)
    ticket.answer_due_at = ticket.first_answer_due_at = first
    changes.apply(ticket, changes.Extended(first + timedelta(days=5)))
    assert ticket.first_answer_due_at == first + timedelta(days=5)
    changes.apply(
        ticket,
        changes.Reworked(answer_due=first + timedelta(days=20), respond_due=NOW),
        changes.Extended(first + timedelta(days=30)),
    )
    assert ticket.first_answer_due_at == first + timedelta(days=5)
    assert ticket.answer_due_at == first + timedelta(days=30)


def test_routing_sets_the_first_department_and_a_transfer_does_not() -> None:
    ticket = Ticket(status=Status.SUBMITTED.value, department_code=None, rework_count=0, escalated=False)
    changes.apply(ticket, changes.Moved(Status.ACCEPTED, NOW, "urban"), changes.Moved(Status.ACCEPTED, NOW, "water"))
    assert (ticket.first_department_code, ticket.department_code) == ("urban", "water")
