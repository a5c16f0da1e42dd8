"""Scenario: what a city runs after intake, at N tickets (SQLite, the embedded default).

The real schema (Alembic), bulk-loaded by ``bench.seed`` (two years, pins all over the city), then:

- the duplicate lookup a citizen's 提交 runs (``DuplicateFinder.find``, 250 m): drafts drawn from
  recent tickets (their topic, place and words), p50/p95 over ``query_samples`` lookups, after
  jieba's dictionary is loaded (the service loads it once);
- the daily hot-topic run (``HotTopicFinder.compute``: read the 35 days' tickets, segment them,
  find the topics), once, timed whole.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bench.appconfig import load, sqlite_url, write_config
from bench.options import Options
from bench.report import Row, failed, judge
from bench.seed import NOW, seed
from bench.stats import Summary
from bot.hot_topics import build_finder
from storage.database import create_engine, session_factory
from storage.hot_topics import HotTopicRepository
from storage.migrate import upgrade
from storage.models import Ticket
from tickets.duplicate_finder import DuplicateFinder, Matter

SCENARIO = "oversight"
LOOKUP_TARGET_MS = 20.0


async def measure(opts: Options, workdir: Path) -> list[Row]:
    url = sqlite_url(workdir, "oversight.db")
    config = load(write_config(workdir, url))
    engine = create_engine(url)
    try:
        await upgrade(engine)
        loaded = await seed(engine, config, opts.tickets, time.monotonic() + 900)
        variant = f"SQLite, {loaded.tickets:,} tickets"
        sessions = session_factory(engine)
        finder = DuplicateFinder()
        rng = random.Random(16)
        async with sessions() as session:
            recent = list(
                (
                    await session.execute(
                        select(Ticket).where(Ticket.created_at >= NOW - timedelta(days=30)).limit(5_000)
                    )
                ).scalars()
            )
            drafts = [Matter.of(t) for t in rng.sample(recent, min(len(recent), opts.query_samples))]
            finder.similarity.profile("预热")  # jieba's dictionary: loaded once per process
            found = 0
            times: list[float] = []
            for matter in drafts:
                started = time.perf_counter()
                found += len(await finder.find(session, matter, NOW, radius_m=250))
                times.append((time.perf_counter() - started) * 1000)
        lookup = Summary.of(times)
        hot = build_finder(config, HotTopicRepository())
        async with sessions() as session:
            result = await hot.compute(session, NOW)
        return [
            Row(
                SCENARIO,
                variant,
                "duplicate lookup at filing (250 m, same topic, similar text), p95",
                lookup.p95,
                "ms",
                target=f"< {LOOKUP_TARGET_MS:.0f} ms",
                verdict=judge(lookup.p95, at_most=LOOKUP_TARGET_MS),
                note=f"p50 {lookup.p50:.2f} / max {lookup.max:.2f} ms over {lookup.count} lookups; "
                f"{found} matches offered",
            ),
            Row(
                SCENARIO,
                variant,
                "daily hot-topic run (35 days read, segmented, clustered)",
                result.seconds,
                "s",
                note=f"{result.tickets:,} tickets read; {len(result.topics)} topics",
            ),
        ]
    finally:
        await engine.dispose()


def run(opts: Options, workdir: Path) -> list[Row]:
    run_dir = workdir / "oversight"
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(measure(opts, run_dir))
    except Exception as exc:
        return [failed(SCENARIO, "sqlite", exc)]
