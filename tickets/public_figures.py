"""The per-department figures on /public (响应率, 按时办结率, 满意率) for this month or last month.

They are the scorecard's, not a second count: the stored snapshot of the month by department
(``tickets.console.snapshots``, kept by the minute loop), or, until the loop has stored one (the
first minute after start), ``scorecard`` counted on the spot. So the public sees exactly the
figures the supervisors see, with the moment they were counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.taxonomy import Bilingual
from tickets.console.scorecard import KPI_NAMES, Figure, GroupBy, Kpi
from tickets.console.snapshots import Month, Snapshots, kept_months
from tickets.routing import Directory

PUBLIC_KPIS = (Kpi.RESPONSE_RATE, Kpi.ON_TIME_RATE, Kpi.SATISFACTION_RATE)


@dataclass(frozen=True, slots=True, kw_only=True)
class DepartmentFigures:
    code: str
    name: Bilingual
    figures: tuple[Figure, ...]  # in ``PUBLIC_KPIS`` order


@dataclass(frozen=True, slots=True, kw_only=True)
class MonthFigures:
    month: Month
    as_of: datetime
    departments: tuple[DepartmentFigures, ...]  # in the directory's order; those with something due


def kpi_names(locale: str) -> tuple[str, ...]:
    return tuple(KPI_NAMES[k]["en" if locale == "en" else "zh"] for k in PUBLIC_KPIS)


def public_month(asked: str, today: date) -> Month:
    """``2026-11`` if that is this month or last month (the kept ones), else this month."""
    this, last = kept_months(today)
    return last if asked == f"{last.start:%Y-%m}" else this


async def month_figures(
    session: AsyncSession, *, month: Month, directory: Directory, tz: ZoneInfo, now: datetime
) -> MonthFigures:
    snapshots = Snapshots(tz=tz)
    found = await snapshots.stored(session, start=month.start, end=month.end, by=GroupBy.DEPARTMENT)
    if found is None:
        found = await snapshots.count(session, start=month.start, end=month.end, by=GroupBy.DEPARTMENT, now=now)
    rows = {row.key: row for row in found.card.rows}
    departments = tuple(
        DepartmentFigures(code=d.code, name=d.name, figures=tuple(rows[d.code].figures[k] for k in PUBLIC_KPIS))
        for d in directory.departments
        if d.code in rows and any(rows[d.code].figures[k].denominator for k in PUBLIC_KPIS)
    )
    return MonthFigures(month=month, as_of=found.as_of, departments=departments)
