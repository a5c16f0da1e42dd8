"""The transition table: every (status, action) pair either moves where the rules say or is refused."""

from __future__ import annotations

import itertools

import pytest

from tickets.lifecycle import Action, IllegalTransition, Status, transition

S = Status
A = Action
# The whole table, written out by hand so a change to tickets/lifecycle.py must be deliberate.
EXPECTED: dict[tuple[Status, Action], Status] = {
    (S.SUBMITTED, A.ROUTE): S.ACCEPTED,
    **{(s, A.CLAIM): S.ASSIGNED for s in (S.ACCEPTED, S.REOPENED, S.ASSIGNED)},
    **{(s, A.ASSIGN): S.ASSIGNED for s in (S.ACCEPTED, S.REOPENED, S.ASSIGNED)},
    (S.IN_PROGRESS, A.ASSIGN): S.IN_PROGRESS,  # 分派 to a colleague keeps the work where it is
    (S.ASSIGNED, A.NOTE): S.IN_PROGRESS,
    **{(s, A.NOTE): s for s in (S.ACCEPTED, S.IN_PROGRESS, S.REOPENED, S.ANSWERED)},
    **{(s, A.REPLY): S.ANSWERED for s in (S.ASSIGNED, S.IN_PROGRESS, S.REOPENED)},
    **{(s, A.TRANSFER): S.ACCEPTED for s in (S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED)},
    **{(s, A.EXTEND): s for s in (S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED)},
    **{(s, A.REJECT): S.REJECTED for s in (S.SUBMITTED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED)},
    (S.ANSWERED, A.CLOSE): S.CLOSED,
    **{(s, A.MARK_DUPLICATE): S.DUPLICATE for s in (S.SUBMITTED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED)},
    (S.DUPLICATE, A.UNLINK): S.ACCEPTED,  # 取消关联: the one way out of a final status (tickets.linking)
    **{(s, A.WITHDRAW): S.WITHDRAWN for s in (S.SUBMITTED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED)},
    (S.ANSWERED, A.RATE_SATISFIED): S.CLOSED,
    (S.ANSWERED, A.RATE_UNSATISFIED): S.REOPENED,
    (S.ANSWERED, A.EXPIRE_RATING): S.CLOSED,
    **{(s, A.SUPPLEMENT): s for s in (S.SUBMITTED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED, S.ANSWERED)},
    **{(s, A.RETOPIC): s for s in (S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED, S.ANSWERED)},
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status, Action)))
def test_every_pair(status: Status, action: Action) -> None:
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(IllegalTransition, match=f"cannot {action.value} a ticket that is {status.value}"):
            transition(status, action)
    else:
        assert transition(status, action) is expected


@pytest.mark.parametrize("final", [S.CLOSED, S.REJECTED, S.WITHDRAWN, S.DUPLICATE])
def test_nothing_leaves_a_final_status_but_an_undone_link(final: Status) -> None:
    for action in Action:
        if (final, action) == (S.DUPLICATE, A.UNLINK):
            continue
        with pytest.raises(IllegalTransition):
            transition(final, action)
