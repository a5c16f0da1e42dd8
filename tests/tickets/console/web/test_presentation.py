"""The console's pure parts: countdown colours, a thread in words, the desk's filter from a query
string, the scorecard's period, and that every text exists in both languages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from multidict import MultiDict

from storage.models import Staff
from tickets.console.queue import QUEUED, QueueOrder
from tickets.console.web.desk import filter_from, page_query
from tickets.console.web.login import safe_next
from tickets.console.web.presentation import NEAR_ANSWER, NEAR_RESPOND, countdown
from tickets.console.web.scorecard_page import period_from
from tickets.console.web.security import Viewer, csrf_for
from tickets.console.web.texts import _TEXTS, t
from tickets.console.web.thread import EventLike, thread
from tickets.lifecycle import Status

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _viewer(role: str = "handler") -> Viewer:
    staff = Staff(id=7, name="张三", department_code="urban", role=role, active=True, locale="zh")
    return Viewer(staff=staff, session_id="s" * 43, csrf=csrf_for("s" * 43), locale="zh")


@pytest.mark.parametrize(
    ("left", "done", "near", "state", "label"),
    [
        (timedelta(hours=6), False, NEAR_RESPOND, "ok", "剩 6小时0分"),
        (timedelta(minutes=90), False, NEAR_RESPOND, "near", "剩 1小时30分"),
        (timedelta(hours=-3), False, NEAR_RESPOND, "late", "超期 3小时0分"),
        (timedelta(days=-2, hours=-1), False, NEAR_ANSWER, "late", "超期 2天1小时"),
        (timedelta(hours=20), False, NEAR_ANSWER, "near", "剩 20小时0分"),
        (timedelta(hours=-3), True, NEAR_RESPOND, "met", "已完成"),
    ],
)
def test_countdowns_colour_as_deadlines_near_and_pass(
    left: timedelta, done: bool, near: timedelta, state: str, label: str
) -> None:
    shown = countdown(NOW + left, done=done, now=NOW, near=near, locale="zh", tz=TZ)
    assert (shown.state, shown.label) == (state, label)


def test_a_thread_reads_as_words_with_names() -> None:
    events = [
        EventLike("submitted", "citizen:3", {"number": "WZ20261206-0001"}, NOW),
        EventLike("route", "system", {"from": "submitted", "to": "accepted", "department": "urban"}, NOW),
        EventLike("claim", "staff:7", {"from": "accepted", "to": "assigned", "staff": "张三"}, NOW),
        EventLike("transfer", "staff:7", {"to": "transport", "reason": "属交通", "source": "urban"}, NOW),
        EventLike("note", "staff:99", {"note": "已电话联系"}, NOW),
        EventLike("escalated", "system", {"why": "overdue_respond"}, NOW),
        EventLike("mystery", "system", {}, NOW),
    ]
    names = {"urban": "城市管理局", "transport": "交通运输局"}
    lines = thread(
        events,
        names={7: "张三"},
        locale="zh",
        tz=TZ,
        dept_name=lambda code: names.get(code or "", code or "-"),
        topic_name=lambda code: code or "-",
    )
    said = [(line.who, line.what, line.side) for line in lines]
    assert said == [
        ("市民", "提交了问政", "citizen"),
        ("系统", "分派给 城市管理局", "system"),
        ("张三", "签收", "staff"),
        ("张三", "转办给 交通运输局，原因：属交通", "staff"),
        ("工作人员 #99", "内部备注：已电话联系", "staff"),
        ("系统", "督办（超过签收时限）", "system"),
        ("系统", "mystery", "system"),
    ]
    assert lines[4].internal and not lines[3].internal
    assert lines[0].when == "2026年12月6日 10:00"


def test_the_desk_filter_comes_from_the_query_string() -> None:
    handler = _viewer()
    query = MultiDict(
        scope="mine",
        status="assigned",
        overdue="1",
        soon="1",
        topic="urban",
        q=" 路灯 ",
        dept="transport",
        order="newest",
        offset="50",
        **{"from": "2026-12-01", "to": "bad"},
    )
    filt = filter_from(query, handler)
    assert filt.mine and not filt.unassigned and filt.overdue and filt.due_within_hours == 4.0
    assert filt.statuses == (Status.ASSIGNED,) and filt.topic == "urban" and filt.text == "路灯"
    assert filt.department is None  # only admins choose a department
    assert filt.created_from == date(2026, 12, 1) and filt.created_to is None
    assert filt.order is QueueOrder.NEWEST and filt.offset == 50
    assert filter_from(MultiDict(), handler).statuses == QUEUED
    assert filter_from(MultiDict(status="any"), handler).statuses == ()
    assert filter_from(MultiDict(dept="transport"), _viewer("admin")).department == "transport"
    assert page_query({"q": "路灯", "offset": "50"}, offset=None) == "q=%E8%B7%AF%E7%81%AF"


def test_the_scorecard_period_and_safe_redirects() -> None:
    today = date(2026, 12, 6)
    assert period_from(MultiDict(), today).start == date(2026, 12, 1)
    assert period_from(MultiDict(month="2026-02"), today).end == date(2026, 2, 28)
    ranged = period_from(MultiDict({"from": "2026-11-10", "to": "2026-11-20"}), today)
    assert (ranged.start, ranged.end, ranged.month) == (date(2026, 11, 10), date(2026, 11, 20), "")
    assert period_from(MultiDict({"from": "2026-11-20", "to": "2026-11-10"}), today).month == "2026-12"
    assert safe_next("/console/tickets/WZ20261206-0001") == "/console/tickets/WZ20261206-0001"
    for hostile in ("//evil.example", "https://evil.example/console", "/consoleevil", "/chat", None):
        assert safe_next(hostile) == "/console"


def test_every_console_text_has_both_languages() -> None:
    for key, (zh, en) in _TEXTS.items():
        assert zh and en, key
        # The same blanks in both: a value given for one language fills the other as well.
        assert set(PLACEHOLDER.findall(zh)) == set(PLACEHOLDER.findall(en)), key
    assert t("status_assigned", "en") == "Taken up"  # the chat's words for statuses
    with pytest.raises(KeyError):
        t("no_such_text", "zh")
