"""Scenario 4a: N tickets in SQLite and in PostgreSQL, time per query (``bench.queries``).

The database is migrated by the real Alembic revisions, bulk-loaded (``bench.seed``), then queried
through the service's own objects (``build_services`` on that database). With ``try_indexes`` the
indexes proposed in BENCHMARKS.md are then added to the throwaway database and the queries timed
again, so the gain of each proposal is measured, not guessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.appconfig import load, sqlite_url, write_config
from bench.dbservers import Unavailable, postgres_server
from bench.options import Options
from bench.queries import QueryTiming, time_queries
from bench.report import Row, as_experiment, failed, judge, pending
from bench.seed import Generator, Seeded, analyze, seed
from bot.app import build_services
from storage.database import create_engine
from storage.migrate import upgrade

SCENARIO = "scale"
QUERY_TARGET_MS = 10.0
# Proposed in BENCHMARKS.md; created only in the benchmark's throwaway database.
CANDIDATE_INDEXES: tuple[tuple[str, str], ...] = (
    (
        "ix_bench_tickets_dept_open_due",
        "CREATE INDEX ix_bench_tickets_dept_open_due ON tickets (department_code, answer_due_at, id) "
        "WHERE status IN ('submitted', 'accepted', 'assigned', 'in_progress', 'reopened')",
    ),
    (
        "ix_bench_tickets_created_dept_status",
        "CREATE INDEX ix_bench_tickets_created_dept_status ON tickets (created_at, department_code, status)",
    ),
    (
        "ix_bench_ratings_created_dept_score",
        "CREATE INDEX ix_bench_ratings_created_dept_score ON ratings (created_at, department_code, score)",
    ),
)


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield sqlite_url(workdir, "scale.db")
    else:
        with postgres_server() as url:
            yield url


async def _add_indexes(engine: AsyncEngine) -> float:
    started = time.monotonic()
    async with engine.begin() as conn:
        for _, ddl in CANDIDATE_INDEXES:
            await conn.execute(text(ddl))
    await analyze(engine)
    return time.monotonic() - started


async def measure(
    url: str, workdir: Path, opts: Options, budget_s: float
) -> tuple[Seeded, list[QueryTiming], list[QueryTiming], float]:
    config = load(write_config(workdir, url))
    engine = create_engine(url)
    try:
        await upgrade(engine)
        loaded = await seed(engine, config, opts.tickets, time.monotonic() + budget_s)
        citizens = Generator(opts.tickets, config).sample_citizens(opts.query_samples)
        services = build_services(config)
        try:
            before = await time_queries(services, citizens, loaded.departments, opts.query_samples)
            after: list[QueryTiming] = []
            index_seconds = 0.0
            if opts.try_indexes:
                index_seconds = await _add_indexes(engine)
                after = await time_queries(services, citizens, loaded.departments, opts.query_samples)
            return loaded, before, after, index_seconds
        finally:
            await services.store.close()
            await services.dispose_databases()
    finally:
        await engine.dispose()


def _rows(
    backend: str, loaded: Seeded, before: list[QueryTiming], after: list[QueryTiming], index_seconds: float
) -> list[Row]:
    label = "SQLite" if backend == "sqlite" else "PostgreSQL"
    variant = f"{label}, {loaded.tickets:,} tickets"
    rows = [
        Row(
            SCENARIO,
            variant,
            "bulk load (tickets + citizens + ratings)",
            loaded.seconds,
            "s",
            note=f"{loaded.citizens:,} citizens, {loaded.ratings:,} ratings; "
            f"{loaded.tickets / max(loaded.seconds, 1e-9):,.0f} tickets/s",
        ),
        Row(
            SCENARIO,
            variant,
            "department statistics roll-up fill",
            loaded.rollup_seconds,
            "s",
            note="storage.stats.rebuild after the load: one INSERT ... SELECT ... GROUP BY per table, "
            "as migration 0006 back-fills an existing database",
        ),
    ]
    for timing in before:
        s = timing.summary
        rows.append(
            Row(
                SCENARIO,
                variant,
                f"{timing.name}, p95",
                s.p95,
                "ms",
                target=f"< {QUERY_TARGET_MS:.0f} ms",
                verdict=judge(s.p95, at_most=QUERY_TARGET_MS),
                note=f"p50 {s.p50:.2f} / max {s.max:.2f} ms over {s.count} runs; {timing.rows} rows",
            )
        )
    for old, new in zip(before, after, strict=False):
        s = new.summary
        gain = old.summary.p95 / s.p95 if s.p95 > 0 else None
        rows.append(
            Row(
                SCENARIO,
                f"{variant} + proposed indexes",
                f"{new.name}, p95",
                s.p95,
                "ms",
                gain,
                "without",
                f"< {QUERY_TARGET_MS:.0f} ms",
                as_experiment(judge(s.p95, at_most=QUERY_TARGET_MS)),
                f"p50 {s.p50:.2f} ms; indexes built in {index_seconds:.1f} s (scratch DB only)",
            )
        )
    return rows


def run(opts: Options, workdir: Path, budget_per_backend_s: float = 600.0) -> list[Row]:
    rows: list[Row] = []
    for backend in opts.backends:
        run_dir = workdir / f"scale-{backend}"
        run_dir.mkdir(parents=True, exist_ok=True)
        try:
            with database(backend, run_dir) as url:
                loaded, before, after, index_s = asyncio.run(measure(url, run_dir, opts, budget_per_backend_s))
            rows.extend(_rows(backend, loaded, before, after, index_s))
        except Unavailable as exc:
            rows.append(pending(SCENARIO, backend, str(exc)))
        except Exception as exc:
            rows.append(failed(SCENARIO, backend, exc))
    return rows
