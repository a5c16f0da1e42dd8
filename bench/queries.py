"""The three queries the scale scenario times, each as the service runs it.

* my inquiries: ``TicketRepository.for_citizen`` (what "我的" runs), limit 5 like the dialog;
* department queue: ``Workflow.queue`` for a handler of the department (open statuses, ordered by
  answer due time), limit 20 like the staff desk;
* department statistics for one month: counts by status and average rating per department, the
  SQL below (no such report exists in the service yet; this is the query it would need).
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text

from bench.seed import NOW
from bench.stats import Summary
from bot.app import Services
from storage.models import Staff, UtcDateTime
from storage.tickets import TicketRepository

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


def month_bounds(months_back: int = 2) -> tuple[datetime, datetime]:
    """A full calendar month (UTC) ``months_back`` before NOW's month."""
    year, month = NOW.year, NOW.month - months_back
    while month < 1:
        month += 12
        year -= 1
    start = NOW.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=year + (month == 12), month=1 if month == 12 else month + 1)
    return start, end


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
            return len(await services.workflow.queue(session, staff[i % len(staff)], 20))

        params = {"start": start, "end": end}

        async def stats(i: int) -> int:
            counts = (await session.execute(STATUS_COUNTS, params)).all()
            averages = (await session.execute(RATING_AVERAGES, params)).all()
            return len(counts) + len(averages)

        for name, run, n in (
            ("my inquiries (for_citizen)", mine, samples),
            ("department queue (Workflow.queue)", queue, samples),
            ("department statistics, one month", stats, max(5, samples // 10)),
        ):
            await run(0)
            summary, rows = await _time(n, run, budget_s)
            out.append(QueryTiming(name, summary, rows))
    return out
