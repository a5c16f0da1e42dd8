"""The desk's queue on the November month: scope by viewer, each filter, search and paging.

At 12-01 00:00 the open tickets are urban's T6 (never claimed: both deadlines passed), T11
(reopened, its rework deadline 11-26 passed) and T14 (filed 11-30 20:00, respond due 04:00).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from storage.models import Staff
from tests.tickets.console.month import TZ, UNTIL, Month, november
from tickets.console.queue import QueueFilter, QueueOrder, QueuePage, find_tickets, statuses_named
from tickets.lifecycle import Status

__all__ = ["november"]


async def _page(month: Month, name: str, filt: QueueFilter) -> QueuePage:
    async with month.services.sessions() as session:
        viewer = (await session.execute(select(Staff).where(Staff.name == name))).scalar_one()
        return await find_tickets(session, viewer=viewer, filt=filt, now=UNTIL, tz=TZ)


def _keys(month: Month, page: QueuePage) -> list[str]:
    by_number = {v: k for k, v in month.numbers.items()}
    return [by_number[r.number] for r in page.rows]


async def test_the_default_queue_is_the_viewers_department_most_urgent_first(november: Month) -> None:
    assert _keys(november, await _page(november, "张三", QueueFilter())) == ["T6", "T11", "T14"]
    assert _keys(november, await _page(november, "王五", QueueFilter())) == []
    # Staff cannot widen their scope with the filter; an admin can narrow or see all.
    assert _keys(november, await _page(november, "王五", QueueFilter(department="urban"))) == []
    assert _keys(november, await _page(november, "赵六", QueueFilter())) == ["T6", "T11", "T14"]
    assert _keys(november, await _page(november, "赵六", QueueFilter(department="transport"))) == []


async def test_row_values_and_overdue_flags(november: Month) -> None:
    page = await _page(november, "张三", QueueFilter())
    t6, t11, t14 = page.rows
    assert t6.respond_overdue and t6.answer_overdue and t6.escalated and t6.handler is None
    # Reopened 11-17 10:00 and not taken up again within 8 h: the rework's respond deadline passed too.
    assert t11.respond_overdue and t11.answer_overdue and t11.handler == "孙七" and t11.rework_count == 1
    assert t11.status is Status.REOPENED and t11.first_answered_at is not None
    assert not t14.respond_overdue and not t14.answer_overdue and t14.channel == "webchat"


async def test_each_filter(november: Month) -> None:
    anything = ()
    cases = {
        "mine": (QueueFilter(mine=True), "孙七", ["T11"]),
        "unassigned": (QueueFilter(unassigned=True), "张三", ["T6", "T14"]),
        "overdue": (QueueFilter(overdue=True), "张三", ["T6", "T11"]),
        "due within 8 h": (QueueFilter(due_within_hours=8), "张三", ["T14"]),
        "channel": (QueueFilter(channel="wechat", statuses=anything), "赵六", ["T5"]),
        "district": (QueueFilter(district="市北区", statuses=anything), "赵六", ["T5", "T11"]),
        "created on": (QueueFilter(created_from=date(2026, 11, 30), statuses=anything), "张三", ["T14"]),
        "created until": (
            QueueFilter(created_to=date(2026, 10, 31), statuses=anything),
            "张三",
            ["T13"],
        ),
        "status": (QueueFilter(statuses=statuses_named(["rejected", "no-such"])), "张三", ["T9"]),
        "topic": (QueueFilter(topic="transport", statuses=anything), "赵六", []),
    }
    for name, (filt, viewer, expected) in cases.items():
        assert sorted(_keys(november, await _page(november, viewer, filt))) == sorted(expected), name


async def test_search_by_number_phone_and_words(november: Month) -> None:
    n = november.numbers
    anything = ()
    for said, expected in (
        (n["T1"], ["T1"]),
        (n["T1"].lower(), ["T1"]),
        ("138 1234 5678", ["T1"]),
        ("+8613812345678", ["T1"]),
        ("井盖 香港中路", ["T7"]),
        ("井盖 不存在的词", []),
        ("100%", []),
    ):
        page = await _page(november, "张三", QueueFilter(text=said, statuses=anything))
        assert _keys(november, page) == expected, said
    day = n["T1"][:10]  # WZ20261102: every ticket filed that day
    page = await _page(november, "张三", QueueFilter(text=day, statuses=anything))
    assert sorted(_keys(november, page)) == ["T1", "T2", "T3"]


async def test_paging_and_order(november: Month) -> None:
    first = await _page(november, "赵六", QueueFilter(statuses=(), order=QueueOrder.NEWEST, limit=2))
    assert _keys(november, first) == ["T14", "T12"] and first.has_more
    rest = await _page(november, "赵六", QueueFilter(statuses=(), order=QueueOrder.NEWEST, limit=50, offset=2))
    assert len(rest.rows) == 13 and not rest.has_more
    numbers = tuple(november.numbers[k] for k in ("T2", "T9"))
    listed = await _page(november, "赵六", QueueFilter(numbers=numbers, statuses=()))
    assert sorted(_keys(november, listed)) == ["T2", "T9"]
