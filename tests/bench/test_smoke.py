"""The benchmark harness's smallest piece runs and produces numbers (no external servers)."""

from __future__ import annotations

import math
import time
from pathlib import Path

from bench.appconfig import sqlite_url
from bench.options import Options
from bench.scale import measure


async def test_query_scenario_on_a_small_sqlite_database_produces_timings(tmp_path: Path) -> None:
    opts = Options.quick_preset().with_(tickets=200, query_samples=5, try_indexes=True)
    started = time.monotonic()
    loaded, before, after, _ = await measure(sqlite_url(tmp_path, "scale.db"), tmp_path, opts, budget_s=30)
    assert loaded.tickets == 200 and loaded.citizens == 50 and loaded.ratings > 0 and loaded.rollup_seconds > 0
    assert [t.name for t in before] == [t.name for t in after] and len(before) == 4
    for timing in (*before, *after):
        assert timing.summary.count > 0 and math.isfinite(timing.summary.p95) and timing.summary.p95 > 0
        assert timing.rows > 0, timing.name
    assert time.monotonic() - started < 10


async def test_every_side_of_the_peer_scenario_files_every_conversation(tmp_path: Path) -> None:
    """A side that stops filing (a text it formats wrong, a question it cannot answer) does less
    work and looks faster: the ratio would flatter it. Every side must file every conversation,
    and meet 已有人反映 for the same ones: the two warm-up citizens' matters come again (citizens
    write about eight matters in turn), so two of the eight answer the offer with "2" and file."""
    from bench.peer import measure as measure_peer

    for concurrency in (1, 4):  # one at a time, and several citizens in flight (group commit batches)
        workdir = tmp_path / str(concurrency)
        workdir.mkdir()
        results = await measure_peer(8, workdir, warmup=2, rounds=1, concurrency=concurrency)
        assert set(results) == {"ptb", "engine", "dispatcher"}
        for side, timing in results.items():
            assert timing.filed == 8, (concurrency, side, timing)
            assert timing.offered == 2, (concurrency, side, timing)
            assert timing.updates == 8 * 6 + 2, (concurrency, side, timing)  # each answer is one more update


async def test_console_scenario_on_a_small_sqlite_database_produces_timings(tmp_path: Path) -> None:
    from bench.console import measure as measure_console

    opts = Options.quick_preset().with_(tickets=3_000, query_samples=5)
    loaded, timings = await measure_console(sqlite_url(tmp_path, "console.db"), tmp_path, opts, budget_s=30)
    # 9 desk and live-count queries, 2 snapshot pages, the minute loop
    assert loaded.tickets == 3_000 and len(timings) == 12
    for timing in timings:
        assert timing.summary.count > 0 and math.isfinite(timing.summary.p95) and timing.summary.p95 > 0
        assert (timing.rows > 0) == ("nowhere" not in timing.name), timing.name  # found what there is
