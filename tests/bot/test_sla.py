"""Deadline arithmetic on China's official calendar, across the 2026 holidays and make-up days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.sla import DeadlineClock, DeadlinePolicy, WorkingCalendar

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def clock() -> DeadlineClock:
    return DeadlineClock(
        [DeadlinePolicy("consultation", None, 4, 5), DeadlinePolicy(None, None, 8, 7)], WorkingCalendar(), TZ
    )


@pytest.mark.parametrize(
    ("filed", "answer_by"),
    [
        # Spring Festival 2026: off 15-23 Feb; Saturday 14 Feb and Saturday 28 Feb are workdays.
        ("2026-02-13 10:00", date(2026, 3, 2)),
        ("2026-02-14 10:00", date(2026, 3, 3)),
        ("2026-02-18 10:00", date(2026, 3, 3)),  # filed in the holiday: counting starts 24 Feb
        # National Day 2026: off 1-7 Oct; Sunday 20 Sep and Saturday 10 Oct are workdays.
        ("2026-09-18 10:00", date(2026, 9, 29)),
        ("2026-09-30 10:00", date(2026, 10, 15)),
        ("2026-10-03 10:00", date(2026, 10, 15)),
        # An ordinary week.
        ("2026-11-22 16:00", date(2026, 12, 1)),
    ],
)
def test_answer_due_counts_working_days(clock: DeadlineClock, filed: str, answer_by: date) -> None:
    start = datetime.fromisoformat(filed).replace(tzinfo=TZ)
    due = clock.deadlines("complaint", "urban", start)
    assert due.answer_due.astimezone(TZ).date() == answer_by
    assert (due.answer_due.astimezone(TZ).hour, due.answer_due.astimezone(TZ).minute) == (23, 59)
    assert due.answer_working_days == 7


def test_respond_due_is_wall_clock_hours(clock: DeadlineClock) -> None:
    start = datetime(2026, 2, 16, 22, 0, tzinfo=TZ)
    assert clock.deadlines("complaint", "urban", start).respond_due == datetime(2026, 2, 17, 6, 0, tzinfo=TZ)


def test_first_matching_policy_wins(clock: DeadlineClock) -> None:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
    due = clock.deadlines("consultation", "health", start)
    assert due.answer_working_days == 5
    assert due.answer_due.date() == date(2026, 11, 30)


def test_years_without_an_official_calendar_fall_back_to_weekdays() -> None:
    calendar = WorkingCalendar()
    assert calendar.add_working_days(date(2035, 1, 5), 1) == date(2035, 1, 8)  # Friday -> Monday


def test_make_up_workdays_count() -> None:
    calendar = WorkingCalendar()
    assert calendar.is_workday(date(2026, 2, 14))  # a Saturday
    assert not calendar.is_workday(date(2026, 10, 5))  # a Monday in the National Day holiday
