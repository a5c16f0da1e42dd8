"""The oversight scenario (duplicate lookup, daily hot-topic run) runs on a small database and
produces numbers."""

from __future__ import annotations

import math
from pathlib import Path

from bench.options import Options
from bench.oversight import measure


async def test_the_oversight_scenario_measures_the_lookup_and_the_daily_run(tmp_path: Path) -> None:
    rows = await measure(Options.quick_preset().with_(tickets=3_000, query_samples=20), tmp_path)
    lookup, daily = rows
    assert lookup.metric.startswith("duplicate lookup") and lookup.unit == "ms"
    assert lookup.value is not None and math.isfinite(lookup.value) and lookup.value > 0
    assert "over 20 lookups" in lookup.note
    assert daily.metric.startswith("daily hot-topic run") and daily.value is not None and daily.value > 0
    assert "tickets read" in daily.note
