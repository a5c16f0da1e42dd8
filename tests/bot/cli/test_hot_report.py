"""``wenzheng report hot [--days N] [--json]`` on a real database of each kind."""

from __future__ import annotations

import json
from datetime import UTC

import pytest

from bot.config import AppConfig
from storage.database import create_engine, session_factory
from tests.app_helpers import Clock
from tests.bot.cli.test_report import config, report
from tests.tickets.hot_data import METRO, corpus, load
from tests.tickets.test_hot_topics import END

__all__ = ["config"]


async def fill(config: AppConfig) -> list[str]:
    engine = create_engine(config.storage.database_url)
    try:
        async with session_factory(engine).begin() as session:
            return await load(session, corpus(END))
    finally:
        await engine.dispose()


async def test_report_hot_prints_the_rising_topics(config: AppConfig, capsys: pytest.CaptureFixture[str]) -> None:
    numbers = await fill(config)
    clock = Clock(END.astimezone(UTC))
    code, out, err = await report(config, "hot", capsys=capsys, clock=clock)
    assert code == 0 and err == ""
    lines = out.strip().splitlines()
    assert lines[0].startswith("hot topics: last 7 days against the 28 before, at least 5 citizens")
    assert len(lines) == 4 and any("青岛市｜地铁" in line and "9件（8位市民）" in line for line in lines)
    assert any(line.startswith("3. 青岛市崂山区｜停车") for line in lines) and "广场舞" not in out

    code, out, _ = await report(config, "hot", "--json", capsys=capsys, clock=clock)
    found = json.loads(out)
    metro = next(t for t in found["topics"] if t["city"] == "青岛市" and t["district"] is None)
    assert sorted(metro["tickets"]) == numbers[: len(METRO)] and metro["districts"] == {"市南区": 8, "崂山区": 1}
    assert found["recent_days"] == 7 and found["baseline_days"] == 28

    code, out, _ = await report(config, "hot", "--days", "2", capsys=capsys, clock=clock)
    assert code == 0 and "last 2 days against the 8 before" in out


async def test_report_hot_refuses_a_silly_window(config: AppConfig, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await report(config, "hot", "--days", "0", capsys=capsys)
    assert code == 2 and "--days 0" in err and "\n" not in err.strip()
