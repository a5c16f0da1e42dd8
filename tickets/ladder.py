"""The 督办 ladder's settings (from ``workflow.escalation`` in the config), apart from the
actions in ``tickets.escalation`` so ``tickets.context`` can hold them without a cycle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tickets.deadlines import WorkingCalendar


@dataclass(frozen=True, slots=True, kw_only=True)
class Ladder:
    red_after_working_days: int = 2  # 黄牌 at a deadline, 红牌 this many working days later
    urge_interval: timedelta = timedelta(hours=24)  # one citizen 催办 per ticket per interval counts
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def red_due(self, deadline: datetime, tz: ZoneInfo) -> datetime:
        """The same local time ``red_after_working_days`` working days after the deadline's day
        (holidays and make-up workdays counted, as for the deadline itself)."""
        local = deadline.astimezone(tz)
        day = self.calendar.add_working_days(local.date(), self.red_after_working_days)
        return datetime.combine(day, local.timetz())
