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
