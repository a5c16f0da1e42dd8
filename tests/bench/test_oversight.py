"""The oversight scenario (duplicate lookup, daily hot-topic run) runs on a small database and
produces numbers; the bursts planted in its seed are found, and the one-citizen flood is not a topic
(though it would be, were one citizen enough)."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

from bench.appconfig import load, sqlite_url, write_config
from bench.hot_bursts import FLOOD, assess, plant
from bench.options import Options
from bench.oversight import daily_run, measure
from bench.seed import NOW, seed
from bot.hot_topics import build_finder
from storage.database import create_engine, session_factory
from storage.hot_topics import HotTopicRepository
from storage.migrate import upgrade


async def test_the_oversight_scenario_measures_the_lookup_and_the_daily_run(tmp_path: Path) -> None:
    rows = await measure(Options.quick_preset().with_(tickets=3_000, query_samples=20), tmp_path)
    lookup, daily, topics = rows
    assert lookup.metric.startswith("duplicate lookup") and lookup.unit == "ms"
    assert lookup.value is not None and math.isfinite(lookup.value) and lookup.value > 0
    assert "over 20 lookups" in lookup.note
    assert daily.metric.startswith("daily hot-topic run") and daily.value is not None and daily.value > 0
    assert "tickets read" in daily.note and "planted" in daily.note
    assert topics.unit == "topics" and topics.value is not None and topics.value > 0
    assert "3 of 3 planted bursts found" in topics.note and f"{FLOOD} not a topic" in topics.note


async def test_the_planted_bursts_are_topics_and_one_citizen_writing_twenty_times_is_not(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path, "oversight.db")
    config = load(write_config(tmp_path, url))
    engine = create_engine(url)
    try:
        await upgrade(engine)
        loaded = await seed(engine, config, 3_000, time.monotonic() + 120)
        planted = await plant(engine, config, loaded.tickets, NOW)
        sessions = session_factory(engine)
        run = await daily_run(sessions, config, planted)
        topics = run.result.topics
        assert len(topics) > 0
        assert run.assessment.missed == () and set(run.assessment.found) == planted.hot
        assert all(len(places) == 1 for places in run.assessment.found.values()), run.assessment.found  # one topic each
        assert run.assessment.others == 0
        assert run.assessment.wrongly_hot == ()
        flood = planted.numbers[FLOOD]
        assert len(flood) == 20 and not any(flood & set(t.numbers) for t in topics)
        assert all(t.citizens >= 5 for t in topics)

        # The flood is big enough to be found when one citizen is allowed to make a topic (and the
        # chance test, which counts citizens too, is off: one citizen is always a likely chance).
        finder = build_finder(config, HotTopicRepository())
        async with sessions() as session:
            loose = await finder.compute(session, NOW, replace(finder.rules, min_citizens=1, significance=1.0))
        assert FLOOD in assess(planted, loose.topics).wrongly_hot
    finally:
        await engine.dispose()
