"""Scenario "console": the desk's queries and the month's scorecard at N tickets (SQLite; PostgreSQL
too when asked for with ``--backends``), through ``tickets.console`` as the /console pages call it.

The database is migrated by the real Alembic revisions and bulk-loaded by ``bench.seed`` (with the
console's columns and one handler per department). Timed, each over ``query_samples`` runs:

* a handler's default queue: ``find_tickets`` with ``QueueFilter()`` (the department's open
  tickets, most urgent first, 50 a page), departments in turn;
* "mine": the handler's own open tickets;
* a filtered query: the urban handler's closed tickets of topic urban filed in one month, newest first;
* search by ticket number, by phone, and by words (details or address, every status, newest first),
  also words found nowhere (the worst case: a department's every ticket is read);
* the scorecard page of last month by department, and by district, as the page gets it: the
  stored snapshot (``tickets.console.snapshots``; read and decoded), after the minute loop's
  refresh, which is timed too (every kept month and grouping counted and stored, once);
* counting one month by department (``scorecard``), and by district: what the refresh does per
  snapshot, and what the page does for a range or an older month.

The target is the issue's: < 100 ms each, so the pages answer in time (the counts run in the
minute loop, not for a page, unless a range is asked for).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.appconfig import load, write_config
from bench.dbservers import Unavailable
from bench.options import Options
from bench.queries import report_month
from bench.report import Row, failed, judge, pending
from bench.scale import database
from bench.seed import NOW, TZ, Seeded, seed
from bench.stats import Summary
from bot.app import build_services
from storage.database import create_engine
from storage.migrate import upgrade
from storage.models import Staff, Ticket
from tickets.console.queue import QueueFilter, QueueOrder, find_tickets
from tickets.console.scorecard import GroupBy, Scorecard, scorecard
from tickets.console.snapshots import Month, Snapshots, kept_months
from tickets.lifecycle import Status

SCENARIO = "console"
TARGET_MS = 100.0
NOT_A_PAGE = ("minute loop", "scorecard count")  # background work (or a range asked for): no target


@dataclass(frozen=True, slots=True)
class Timing:
    name: str
    summary: Summary  # milliseconds
    rows: int  # rows of the last run (a sanity check)


async def _time(samples: int, run: Callable[[int], Awaitable[int]], budget_s: float) -> tuple[Summary, int]:
    await run(0)  # statement caches, the first page of the index
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


async def measure(url: str, workdir: Path, opts: Options, budget_s: float) -> tuple[Seeded, list[Timing]]:
    config = load(write_config(workdir, url))
    engine = create_engine(url)
    try:
        await upgrade(engine)
        loaded = await seed(engine, config, opts.tickets, time.monotonic() + budget_s)
        services = build_services(config)
        try:
            return loaded, await time_console(services.sessions, opts.query_samples)
        finally:
            await services.store.close()
            await services.dispose_databases()
    finally:
        await engine.dispose()


async def time_console(
    sessions: async_sessionmaker[AsyncSession], samples: int, budget_s: float = 60.0
) -> list[Timing]:
    year, month = report_month()
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    out: list[Timing] = []
    snapshots = Snapshots(tz=TZ)
    last_month = kept_months(NOW.astimezone(TZ).date())[1]
    started = time.perf_counter()
    refreshed = await snapshots.refresh_due(sessions, sessions, NOW)  # as the minute loop does
    loop = Summary.of([(time.perf_counter() - started) * 1000.0])
    out.append(Timing("minute loop: every kept month and grouping counted and stored, once", loop, refreshed))
    async with sessions() as session:
        handlers = list((await session.execute(select(Staff).order_by(Staff.id))).scalars())
        found = select(Ticket.number, Ticket.phone, Ticket.department_code).where(
            Ticket.phone.is_not(None), Ticket.department_code.is_not(None)
        )
        sample = list(await session.execute(found.limit(500)))
        if not handlers or not sample:
            raise RuntimeError("the bench database has no staff or no phone numbers: was it seeded by bench.seed?")

        async def page(viewer: Staff, filt: QueueFilter) -> int:
            return len((await find_tickets(session, viewer=viewer, filt=filt, now=NOW, tz=TZ)).rows)

        urban = next((h for h in handlers if h.department_code == "urban"), handlers[0])

        by_department = {h.department_code: h for h in handlers}

        def owner(i: int) -> Staff:
            """The handler of the sampled ticket's department (search is within one's department)."""
            return by_department[str(sample[i % len(sample)][2])]

        def handler(i: int) -> Staff:
            return handlers[i % len(handlers)]

        everything = ()
        cases: list[tuple[str, Callable[[int], Awaitable[int]], int]] = [
            ("desk: a handler's default queue (open, by due time)", lambda i: page(handler(i), QueueFilter()), samples),
            ("desk: mine", lambda i: page(handler(i), QueueFilter(mine=True)), samples),
            (
                "desk: closed, one topic, one month, newest",
                lambda i: page(
                    urban,
                    QueueFilter(
                        statuses=(Status.CLOSED,),
                        topic="urban",
                        created_from=first,
                        created_to=last,
                        order=QueueOrder.NEWEST,
                    ),
                ),
                samples,
            ),
            (
                "search: ticket number",
                lambda i: page(owner(i), QueueFilter(text=sample[i % len(sample)][0], statuses=everything)),
                samples,
            ),
            (
                "search: phone",
                lambda i: page(owner(i), QueueFilter(text=str(sample[i % len(sample)][1]), statuses=everything)),
                samples,
            ),
            (
                "search: words, every status, newest 50",
                lambda i: page(handler(i), QueueFilter(text="井盖", statuses=everything, order=QueueOrder.NEWEST)),
                samples,
            ),
            (
                "search: words found nowhere (the department read through)",
                lambda i: page(handler(i), QueueFilter(text="不存在的词", statuses=everything)),
                max(5, samples // 10),
            ),
            (
                "scorecard page: last month by department (the stored snapshot)",
                lambda i: _stored(snapshots, session, last_month, GroupBy.DEPARTMENT),
                samples,
            ),
            (
                "scorecard page: last month by district (the stored snapshot)",
                lambda i: _stored(snapshots, session, last_month, GroupBy.DISTRICT),
                samples,
            ),
            (
                "scorecard count (refresh, or a range): one month by department",
                lambda i: _rows(scorecard(session, start=first, end=last, tz=TZ, by=GroupBy.DEPARTMENT)),
                max(5, samples // 10),
            ),
            (
                "scorecard count (refresh, or a range): one month by district",
                lambda i: _rows(scorecard(session, start=first, end=last, tz=TZ, by=GroupBy.DISTRICT)),
                max(5, samples // 10),
            ),
        ]
        for name, run, n in cases:
            summary, rows = await _time(n, run, budget_s)
            out.append(Timing(name, summary, rows))
    return out


async def _stored(snapshots: Snapshots, session: AsyncSession, month: Month, by: GroupBy) -> int:
    found = await snapshots.stored(session, start=month.start, end=month.end, by=by)
    if found is None:
        raise RuntimeError("no snapshot after the refresh")
    return len(found.card.rows)


async def _rows(card: Awaitable[Scorecard]) -> int:
    return len((await card).rows)


def _table(backend: str, loaded: Seeded, timings: list[Timing]) -> list[Row]:
    label = "SQLite" if backend == "sqlite" else "PostgreSQL"
    variant = f"{label}, {loaded.tickets:,} tickets"
    rows = [
        Row(SCENARIO, variant, "bulk load (with the console's columns)", loaded.seconds, "s"),
    ]
    for timing in timings:
        s = timing.summary
        for_a_page = not timing.name.startswith(NOT_A_PAGE)
        rows.append(
            Row(
                SCENARIO,
                variant,
                f"{timing.name}, p95",
                s.p95,
                "ms",
                target=f"< {TARGET_MS:.0f} ms" if for_a_page else "",
                verdict=judge(s.p95, at_most=TARGET_MS) if for_a_page else "",
                note=f"p50 {s.p50:.2f} / max {s.max:.2f} ms over {s.count} runs; {timing.rows} rows",
            )
        )
    return rows


def run(opts: Options, workdir: Path, budget_per_backend_s: float = 900.0) -> list[Row]:
    rows: list[Row] = []
    backends = opts.backends if opts.backends != ("sqlite", "postgres") else ("sqlite",)  # SQLite unless asked
    for backend in backends:
        run_dir = workdir / f"console-{backend}"
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            with database(backend, run_dir) as url:
                loaded, timings = asyncio.run(measure(url, run_dir, opts, budget_per_backend_s))
            rows.extend(_table(backend, loaded, timings))
        except Unavailable as exc:
            rows.append(pending(SCENARIO, backend, str(exc)))
        except Exception as exc:
            rows.append(failed(SCENARIO, backend, exc))
    return rows
