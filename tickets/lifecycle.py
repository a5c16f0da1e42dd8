"""The ticket lifecycle as one table: which action may move a ticket from which status to which.

Every transition in the service goes through ``transition``, so an illegal move (answering a
closed ticket, rating twice) is refused in one place, with a reason staff can read.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"  # routed: a department owns it (首问负责)
    ASSIGNED = "assigned"  # a handler claimed it (接单)
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"  # waiting for the citizen's rating
    REOPENED = "reopened"  # 不满意: back for rework (退回重办)
    CLOSED = "closed"
    REJECTED = "rejected"  # 不予受理
    WITHDRAWN = "withdrawn"
    DUPLICATE = "duplicate"


class Action(StrEnum):
    ROUTE = "route"
    CLAIM = "claim"
    ASSIGN = "assign"  # to a colleague of the ticket's department
    NOTE = "note"
    REPLY = "reply"
    TRANSFER = "transfer"
    EXTEND = "extend"
    REJECT = "reject"
    CLOSE = "close"
    MARK_DUPLICATE = "duplicate"  # 重复 / 关联 (tickets.linking)
    UNLINK = "unlink"  # 取消关联: a 重复件 back to its department as a new to-do
    WITHDRAW = "withdraw"
    RATE_SATISFIED = "rate_satisfied"
    RATE_UNSATISFIED = "rate_unsatisfied"
    EXPIRE_RATING = "expire_rating"
    SUPPLEMENT = "supplement"  # 补充: the citizen adds information
    RETOPIC = "retopic"  # 改类: staff correct the topic (a label for the classifier)


OPEN = frozenset({Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED})
WORKING = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED})
FINAL = frozenset({Status.CLOSED, Status.REJECTED, Status.WITHDRAWN, Status.DUPLICATE})

_KEEP = None  # the action does not change the status

TRANSITIONS: MappingProxyType[Action, MappingProxyType[Status, Status | None]] = MappingProxyType(
    {
        Action.ROUTE: MappingProxyType({Status.SUBMITTED: Status.ACCEPTED}),
        Action.CLAIM: MappingProxyType(
            {Status.ACCEPTED: Status.ASSIGNED, Status.REOPENED: Status.ASSIGNED, Status.ASSIGNED: _KEEP}
        ),
        Action.ASSIGN: MappingProxyType(
            {
                Status.ACCEPTED: Status.ASSIGNED,
                Status.REOPENED: Status.ASSIGNED,
                Status.ASSIGNED: _KEEP,
                Status.IN_PROGRESS: _KEEP,
            }
        ),
        Action.NOTE: MappingProxyType(
            {s: (Status.IN_PROGRESS if s is Status.ASSIGNED else _KEEP) for s in (*OPEN, Status.ANSWERED)}
        ),
        Action.REPLY: MappingProxyType({s: Status.ANSWERED for s in WORKING}),
        Action.TRANSFER: MappingProxyType({s: Status.ACCEPTED for s in OPEN}),
        Action.EXTEND: MappingProxyType(dict.fromkeys(OPEN, _KEEP)),
        Action.REJECT: MappingProxyType({s: Status.REJECTED for s in (Status.SUBMITTED, *OPEN)}),
        Action.CLOSE: MappingProxyType({Status.ANSWERED: Status.CLOSED}),
        Action.MARK_DUPLICATE: MappingProxyType({s: Status.DUPLICATE for s in (Status.SUBMITTED, *OPEN)}),
        # The one way out of a final status: a link was staff's judgement, and the ticket never had
        # an answer of its own (tickets.linking).
        Action.UNLINK: MappingProxyType({Status.DUPLICATE: Status.ACCEPTED}),
        Action.WITHDRAW: MappingProxyType({s: Status.WITHDRAWN for s in (Status.SUBMITTED, *OPEN)}),
        Action.RATE_SATISFIED: MappingProxyType({Status.ANSWERED: Status.CLOSED}),
        Action.RATE_UNSATISFIED: MappingProxyType({Status.ANSWERED: Status.REOPENED}),
        Action.EXPIRE_RATING: MappingProxyType({Status.ANSWERED: Status.CLOSED}),
        Action.SUPPLEMENT: MappingProxyType(dict.fromkeys((Status.SUBMITTED, *OPEN, Status.ANSWERED), _KEEP)),
        # Also after the answer: a corrected label is worth keeping even when nothing is re-routed.
        # A closed ticket stays as it was closed (nothing leaves a final status).
        Action.RETOPIC: MappingProxyType(dict.fromkeys((*OPEN, Status.ANSWERED), _KEEP)),
    }
)


class IllegalTransition(Exception):
    def __init__(self, action: Action, status: Status) -> None:
        super().__init__(f"cannot {action.value} a ticket that is {status.value}")
        self.action = action
        self.status = status


def transition(status: Status, action: Action) -> Status:
    """The status after ``action``; raises ``IllegalTransition`` when the table does not allow it."""
    allowed = TRANSITIONS[action]
    if status not in allowed:
        raise IllegalTransition(action, status)
    after = allowed[status]
    return status if after is None else after
