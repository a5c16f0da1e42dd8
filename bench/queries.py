"""The queries the scale scenario times, each as the service runs it.

* my inquiries: ``TicketRepository.for_citizen`` (what "我的" runs), limit 5 like the dialog;
* department queue: ``tickets.staff_actions.queue`` for a handler of the department (open statuses, ordered by
  answer due time), limit 20 like the staff desk;
* department statistics for one month: ``storage.stats.month`` (what ``wenzheng report month``
  runs), from the daily roll-ups; and, for comparison, the same figures straight from ``tickets``
  and ``ratings`` (the SQL below: counts by department and status, average rating by department),
  which is what the report would cost without the roll-ups.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text

from bench.seed import NOW, TZ
from bench.stats import Summary
from bot.services import Services
from storage import stats
from storage.models import Staff, UtcDateTime
from storage.tickets import TicketRepository
from tickets import staff_actions

STATUS_COUNTS = text("""
SELECT department_code, status, count(*) AS n
FROM tickets
WHERE created_at >= :start AND created_at < :end
GROUP BY department_code, status
""").bindparams(bindparam("start", type_=UtcDateTime()), bindparam("end", type_=UtcDateTime()))
RATING_AVERAGES = text("""
SELECT department_code, avg(score) AS average, count(*) AS n
FROM ratings
WHERE created_at >= :start AND created_at < :end
GROUP BY department_code
""").bindparams(bindparam("start", type_=UtcDateTime()), bindparam("end", type_=UtcDateTime()))


@dataclass(frozen=True, slots=True)
class QueryTiming:
    name: str
    summary: Summary  # milliseconds
    rows: int  # rows returned by the last run (a sanity check)


def report_month(months_back: int = 2) -> tuple[int, int]:
    """The calendar month ``months_back`` before NOW's month (in the service's time zone)."""
    local = NOW.astimezone(TZ)
    index = local.year * 12 + local.month - 1 - months_back
    return index // 12, index % 12 + 1


def month_bounds(months_back: int = 2, tz: ZoneInfo = TZ) -> tuple[datetime, datetime]:
    """That month as UTC instants: local midnight on its first day to local midnight on the next
    month's, so the query from ``tickets`` counts exactly the tickets the roll-up counts."""
    first, following = stats.month_range(*report_month(months_back))
    return (
        datetime(first.year, first.month, first.day, tzinfo=tz),
        datetime(following.year, following.month, following.day, tzinfo=tz),
    )


async def _time(samples: int, run: Callable[[int], Awaitable[int]], budget_s: float) -> tuple[Summary, int]:
    times: list[float] = []
    rows = 0
    stop_at = time.monotonic() + budget_s
    for i in range(samples):
        started = time.perf_counter()
        rows = await run(i)
        times.append((time.perf_counter() - started) * 1000.0)
        if time.monotonic() > stop_at:
            break
    return Summary.of(times), rows


async def time_queries(
    services: Services, citizens: Sequence[int], departments: Sequence[str], samples: int, budget_s: float = 60.0
) -> list[QueryTiming]:
    repo = TicketRepository()
    rng = random.Random(5)
    staff = [Staff(name=f"bench-{d}", department_code=d, role="handler", active=True, locale="zh") for d in departments]
    start, end = month_bounds()
    out: list[QueryTiming] = []
    async with services.sessions() as session:
        for warm in citizens[:5]:  # connection, statement caches
            await repo.for_citizen(session, warm, 5)

        async def mine(i: int) -> int:
            return len(await repo.for_citizen(session, rng.choice(citizens), 5))

        async def queue(i: int) -> int:
            return len(await staff_actions.queue(services.workflow, session, staff[i % len(staff)], 20))

        params = {"start": start, "end": end}

        year, month = report_month()

        async def month_stats(i: int) -> int:
            return len((await stats.month(session, year, month)).departments)

        async def month_from_tickets(i: int) -> int:
            counts = (await session.execute(STATUS_COUNTS, params)).all()
            averages = (await session.execute(RATING_AVERAGES, params)).all()
            return len(counts) + len(averages)

        for name, run, n in (
            ("my inquiries (for_citizen)", mine, samples),
            ("department queue (staff_actions.queue)", queue, samples),
            ("department statistics, one month", month_stats, samples),
            ("department statistics, one month, from tickets (no roll-up)", month_from_tickets, max(5, samples // 10)),
        ):
            await run(0)
            summary, rows = await _time(n, run, budget_s)
            out.append(QueryTiming(name, summary, rows))
    return out
