"""Small pure helpers the templates use: deadlines as countdowns with a colour, times in words.

A countdown is ``near`` inside its last stretch (2 hours of the 8-hour respond deadline, the last
day of the answer deadline), ``late`` once it has passed, ``met`` once the work was done (claimed,
answered), ``ok`` before that: a clerk sees at a glance what to do first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dialogs.formatting import moment
from tickets.console.web.texts import t

NEAR_RESPOND = timedelta(hours=2)
NEAR_ANSWER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Countdown:
    state: str  # ok | near | late | met
    label: str  # "剩 3小时10分" / "超期 2天1小时"
    due: str  # the deadline as a local time


def span(delta: timedelta, locale: str) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return t("span_days", locale, days=days, hours=hours)
    if hours:
        return t("span_hours", locale, hours=hours, minutes=minutes)
    return t("span_minutes", locale, minutes=minutes)


def countdown(due: datetime, *, done: bool, now: datetime, near: timedelta, locale: str, tz: ZoneInfo) -> Countdown:
    when = moment(due, locale, tz)
    if done:
        return Countdown("met", t("met", locale), when)
    left = due - now
    if left < timedelta(0):
        return Countdown("late", t("overdue_by", locale, span=span(left, locale)), when)
    return Countdown("near" if left <= near else "ok", t("left", locale, span=span(left, locale)), when)
