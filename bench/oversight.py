"""Scenario: what a city runs after intake, at N tickets (SQLite, the embedded default).

The real schema (Alembic), bulk-loaded by ``bench.seed`` (two years, pins all over the city), then:

- the duplicate lookup a citizen's 提交 runs (``DuplicateFinder.find``, 250 m): drafts drawn from
  recent tickets (their topic, place and words), p50/p95 over ``query_samples`` lookups, after
  jieba's dictionary is loaded (the service loads it once);
- the daily hot-topic run (``HotTopicFinder.compute``: read the 35 days' tickets, segment them,
  find the topics), once, timed whole, jieba's dictionary loaded before (the service loads it at
  start), with the growth of the process's peak RSS during the run. The seed has bursts planted in
  it (``bench.hot_bursts``): the row after says which the run found, that the one-citizen flood and
  the four-citizen rise were not topics, and how many other topics the steady background produced.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.appconfig import load, sqlite_url, write_config
from bench.hot_bursts import Assessment, Planted, assess, plant
from bench.options import Options
from bench.report import Row, failed, judge
from bench.seed import NOW, seed
from bench.stats import Summary
from bot.config import AppConfig
from bot.hot_topics import build_finder
from storage.database import create_engine, session_factory
from storage.hot_topics import HotTopicRepository
from storage.migrate import upgrade
from storage.models import Ticket
from tickets.duplicate_finder import DuplicateFinder, Matter
from tickets.hot_run import RunResult
from tickets.segment import Segmenter

SCENARIO = "oversight"
LOOKUP_TARGET_MS = 20.0


@dataclass(frozen=True, slots=True)
class DailyRun:
    result: RunResult
    assessment: Assessment
    planted: Planted
    jieba_seconds: float  # the dictionary's load, before the run
    peak_rss_growth: int | None  # bytes: the process's peak RSS during the run over its RSS before


async def daily_run(sessions: async_sessionmaker[AsyncSession], config: AppConfig, planted: Planted) -> DailyRun:
    """The day's run as the timer worker's ``HotTopicFinder.compute`` does it, ending at ``NOW``."""
    segmenter = Segmenter()
    started = time.perf_counter()
    segmenter.warm_up()
    jieba_seconds = time.perf_counter() - started
    hot = build_finder(config, HotTopicRepository(), segmenter)
    before = _reset_peak_rss()
    async with sessions() as session:
        result = await hot.compute(session, NOW)
    growth = None if before is None else _status_kb("VmHWM") * 1024 - before
    return DailyRun(result, assess(planted, result.topics), planted, jieba_seconds, growth)


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> int | None:
    """The RSS now, in bytes, after resetting the peak (VmHWM) to it; None where Linux's
    ``/proc/self/clear_refs`` is not there to do it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        return _status_kb("VmRSS") * 1024
    except OSError:
        return None


async def measure(opts: Options, workdir: Path) -> list[Row]:
    url = sqlite_url(workdir, "oversight.db")
    config = load(write_config(workdir, url))
    engine = create_engine(url)
    try:
        await upgrade(engine)
        loaded = await seed(engine, config, opts.tickets, time.monotonic() + 900)
        planted = await plant(engine, config, loaded.tickets, NOW)
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
        daily = await daily_run(sessions, config, planted)
        result = daily.result
        memory = "" if daily.peak_rss_growth is None else f"; peak RSS +{daily.peak_rss_growth / 2**20:.0f} MB"
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
                note=f"{result.tickets:,} tickets read ({planted.tickets} of them planted); "
                f"{len(result.topics)} topics; jieba's dictionary loaded before "
                f"({daily.jieba_seconds:.2f} s, as the service does at start){memory}",
            ),
            Row(
                SCENARIO,
                variant,
                "daily hot-topic run: topics found",
                float(len(result.topics)),
                "topics",
                note=daily.assessment.describe(planted),
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
