"""Deadline arithmetic on China's official calendar, across the 2026 holidays and make-up days."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.deadlines import DeadlineClock, DeadlinePolicy, OfficeHours, WorkingCalendar

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


# --- office hours: reminders stay inside them ---------------------------------------------------


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def office() -> OfficeHours:
    return OfficeHours.parse("09:00-18:00", calendar=WorkingCalendar(), tz=TZ)


def test_the_evening_reminder_of_an_end_of_day_deadline_comes_at_closing_time(
    clock: DeadlineClock, office: OfficeHours
) -> None:
    filed = local("2026-12-01 10:00")  # a Tuesday
    due = clock.deadlines("complaint", "urban", filed).answer_due
    assert due == local("2026-12-10 23:59:59")
    wanted = due - timedelta(hours=4)  # 19:59:59: what the timer used to fire at
    assert not office.contains(wanted)
    assert office.reminder_time(wanted, now=filed, deadline=due) == local("2026-12-10 18:00")


@pytest.mark.parametrize(
    ("wanted", "moved"),
    [
        ("2026-12-02 11:00", "2026-12-02 11:00"),  # inside: unchanged
        ("2026-12-02 18:00", "2026-12-02 18:00"),  # the closing minute still counts
        ("2026-12-02 07:30", "2026-12-01 18:00"),  # before opening: the evening before
        ("2026-12-07 08:00", "2026-12-04 18:00"),  # Monday morning: back to Friday evening
        ("2026-12-06 14:00", "2026-12-04 18:00"),  # a Sunday
        ("2026-10-05 12:00", "2026-09-30 18:00"),  # National Day holiday: back to its eve
        ("2026-10-10 12:00", "2026-10-10 12:00"),  # a Saturday that is a make-up workday
    ],
)
def test_a_reminder_outside_office_hours_moves_to_the_last_office_moment_before_it(
    office: OfficeHours, wanted: str, moved: str
) -> None:
    now = local("2026-09-01 09:00")
    assert office.reminder_time(local(wanted), now=now, deadline=local(wanted) + timedelta(hours=4)) == local(moved)


def test_filed_after_hours_the_reminder_comes_next_morning_if_that_is_before_the_deadline(
    office: OfficeHours,
) -> None:
    now = local("2026-12-02 04:00")  # filed at 4 in the morning; respond due at 12:00
    deadline = now + timedelta(hours=8)
    assert office.reminder_time(deadline - timedelta(hours=4), now=now, deadline=deadline) == local("2026-12-02 09:00")


def test_filed_after_hours_with_no_office_time_before_the_deadline_there_is_no_reminder(
    office: OfficeHours,
) -> None:
    now = local("2026-12-02 20:00")  # respond due at 04:00: nobody is at work before it
    deadline = now + timedelta(hours=8)
    assert office.reminder_time(deadline - timedelta(hours=4), now=now, deadline=deadline) is None


@pytest.mark.parametrize("spec", ["18:00-09:00", "9-18", "09:00"])
def test_office_hours_must_be_a_forward_range(spec: str) -> None:
    with pytest.raises(ValueError):
        OfficeHours.parse(spec, calendar=WorkingCalendar(), tz=TZ)
