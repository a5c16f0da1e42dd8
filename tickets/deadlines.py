"""Deadlines: respond within N hours, answer within N working days.

Working days follow China's official calendar, holidays and make-up workdays (调休) included, from
the maintained ``chinese-calendar`` package rather than a hand-kept list. Beyond the years it
knows (it is updated each November when the State Council publishes the next year), we fall back
to Monday–Friday and log it once per year, so a deadline is never refused, only approximate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    type_code: str | None
    topic_code: str | None
    respond_hours: float
    answer_working_days: int

    def matches(self, type_code: str, topic_code: str) -> bool:
        return self.type_code in (None, type_code) and self.topic_code in (None, topic_code)


@dataclass(frozen=True, slots=True)
class Deadlines:
    respond_due: datetime
    answer_due: datetime
    answer_working_days: int


class WorkingCalendar:
    def __init__(self, is_workday: Callable[[date], bool] | None = None) -> None:
        self._is_workday = is_workday or self._official
        self._warned: set[int] = set()
        self._known: dict[date, bool] = {}  # the library scans its tables per call: remember answers

    def _official(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._lookup(day)
        return known

    def _lookup(self, day: date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning("no official calendar for %s yet; counting Monday-Friday", day.year)
            return day.weekday() < 5

    def is_workday(self, day: date) -> bool:
        return self._is_workday(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (the filing day itself does not count)."""
        current = start
        counted = 0
        while counted < days:
            current += timedelta(days=1)
            if self._is_workday(current):
                counted += 1
        return current


class DeadlineClock:
    def __init__(self, policies: Sequence[DeadlinePolicy], calendar: WorkingCalendar, tz: ZoneInfo) -> None:
        if not policies:
            raise ValueError("at least one deadline policy is needed")
        self._policies = tuple(policies)
        self._calendar = calendar
        self._tz = tz

    def policy_for(self, type_code: str, topic_code: str) -> DeadlinePolicy:
        return next((p for p in self._policies if p.matches(type_code, topic_code)), self._policies[-1])

    def deadlines(self, type_code: str, topic_code: str, start: datetime) -> Deadlines:
        """Respond: wall-clock hours from ``start``. Answer: end of the N-th working day after the
        local day of ``start``, which is how 12345 rules count "7 working days"."""
        policy = self.policy_for(type_code, topic_code)
        local = start.astimezone(self._tz)
        last_day = self._calendar.add_working_days(local.date(), policy.answer_working_days)
        answer_due = datetime.combine(last_day, time(23, 59, 59), self._tz)
        return Deadlines(
            respond_due=start + timedelta(hours=policy.respond_hours),
            answer_due=answer_due,
            answer_working_days=policy.answer_working_days,
        )


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """When staff are at work: ``start``-``end`` local time on working days (the same official
    calendar as the deadlines). Reminders are kept inside it; deadlines and the escalations at
    them are not moved (a deadline is a promise to the citizen, not a staff convenience)."""

    start: time
    end: time
    calendar: WorkingCalendar
    tz: ZoneInfo

    @classmethod
    def parse(cls, spec: str, *, calendar: WorkingCalendar, tz: ZoneInfo) -> OfficeHours:
        """``"09:00-18:00"`` (the config's ``workflow.office_hours``)."""
        first, _, last = spec.partition("-")
        start, end = time.fromisoformat(first.strip()), time.fromisoformat(last.strip())
        if not start < end:
            raise ValueError(f"office hours {spec!r}: the start must be before the end")
        return cls(start=start, end=end, calendar=calendar, tz=tz)

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(self.tz)
        return self.calendar.is_workday(local.date()) and self.start <= local.time() <= self.end

    def last_at_or_before(self, at: datetime) -> datetime:
        """``at`` itself inside office hours, else the end of the last working day's hours before it."""
        if self.contains(at):
            return at
        local = at.astimezone(self.tz)
        day = local.date() if local.time() > self.end else local.date() - timedelta(days=1)
        while not self.calendar.is_workday(day):  # a week-long holiday is the longest run
            day -= timedelta(days=1)
        return datetime.combine(day, self.end, self.tz)

    def first_at_or_after(self, at: datetime) -> datetime:
        """``at`` itself inside office hours, else the start of the next working day's hours."""
        if self.contains(at):
            return at
        local = at.astimezone(self.tz)
        day = local.date() if local.time() < self.start else local.date() + timedelta(days=1)
        while not self.calendar.is_workday(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.start, self.tz)

    def reminder_time(self, wanted: datetime, *, now: datetime, deadline: datetime) -> datetime | None:
        """When to remind a handler who should hear at ``wanted`` about ``deadline``: ``wanted``
        in office hours; else the last office moment before it (earlier, so the handler still
        has working time: the 19:59 reminder of a 23:59 deadline comes at 18:00); when that is
        already past (filed after hours), the next office morning if it still comes before the
        deadline; else None: nobody is at work before the deadline, and the escalation at the
        deadline already tells the supervisors."""
        earlier = self.last_at_or_before(wanted)
        if earlier > now:
            return earlier
        later = self.first_at_or_after(now)
        return later if later < deadline else None
