"""``wenzheng report …`` through ``bot.cli.report.run`` (and ``bot.cli``) on a real, temporary database."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import cli
from bot.cli import report as report_cli
from bot.config import AppConfig
from storage import stats
from storage.database import create_engine, session_factory
from tests.app_helpers import Clock, make_config
from tests.storage.test_stats import boundary_moments, bulk_load

NOVEMBER = date(2026, 11, 3)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wenzheng")
    report_cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["report", *argv])


@pytest.fixture
def config(tmp_path: Path, engine: AsyncEngine, database_url: str) -> AppConfig:
    """The shipped config on a migrated database of each kind (SQLite would migrate itself)."""
    return make_config(tmp_path, database_url)


async def report(
    config: AppConfig, *argv: str, capsys: pytest.CaptureFixture[str], clock: Clock | None = None
) -> tuple[int, str, str]:
    code = await report_cli.run(parse(*argv), config, clock=clock or Clock())
    out, err = capsys.readouterr()
    return code, out, err


async def fill(config: AppConfig) -> None:
    """November: urban 2 accepted + 1 closed (rated 1 and 3), transport 1 answered; one unrouted;
    October: one urban ticket, which November's report must not show."""
    engine = create_engine(config.storage.database_url)
    try:
        async with session_factory(engine).begin() as session:
            for dept, status in (("urban", "accepted"), ("urban", "accepted"), ("urban", "closed")):
                await stats.record_filing(session, day=NOVEMBER, department_code=dept, status=status)
            await stats.record_filing(session, day=NOVEMBER, department_code="transport", status="accepted")
            await stats.record_change(
                session, day=NOVEMBER, before=("transport", "accepted"), after=("transport", "answered")
            )
            await stats.record_filing(session, day=NOVEMBER, department_code=None, status="submitted")
            await stats.record_filing(session, day=date(2026, 10, 31), department_code="urban", status="accepted")
            for score in (1, 3):
                await stats.record_rating(session, day=NOVEMBER, department_code="urban", score=score)
    finally:
        await engine.dispose()


async def test_month_table_shows_departments_statuses_ratings_and_totals(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    await fill(config)
    code, out, err = await report(config, "month", "--month", "2026-11", capsys=capsys)
    assert (code, err) == (0, "")
    title, header, *rows = out.splitlines()
    assert title.startswith("2026-11 (Asia/Shanghai):")
    assert header.split() == [
        "DEPARTMENT", "NAME", "TICKETS", "SUBMITTED", "ACCEPTED", "ANSWERED", "CLOSED", "RATINGS", "AVG", "SCORE"
    ]  # fmt: skip
    assert [r.split() for r in rows] == [
        ["transport", "交通运输局", "1", "0", "0", "1", "0", "0", "-"],
        ["urban", "城市管理局", "3", "0", "2", "0", "1", "2", "2.00"],
        ["-", report_cli.UNROUTED_NAME, "1", "1", "0", "0", "0", "0", "-"],
        ["TOTAL", "5", "1", "2", "1", "1", "2", "2.00"],
    ]


async def test_month_json_and_default_month_in_the_service_time_zone(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    await fill(config)
    # 17:00 UTC on 30 November is already 1 December in Beijing: the default month is December.
    code, out, _ = await report(
        config, "month", "--json", capsys=capsys, clock=Clock(datetime(2026, 11, 30, 17, tzinfo=UTC))
    )
    assert code == 0
    assert json.loads(out)["month"] == "2026-12" and json.loads(out)["departments"] == []

    code, out, _ = await report(config, "month", "--json", capsys=capsys)  # the clock's 22 November
    assert code == 0
    found = json.loads(out)
    assert (found["month"], found["timezone"], found["tickets"], found["ratings"]) == ("2026-11", "Asia/Shanghai", 5, 2)
    urban = next(d for d in found["departments"] if d["code"] == "urban")
    assert urban == {
        "code": "urban",
        "name": "城市管理局",
        "tickets": 3,
        "by_status": {"accepted": 2, "closed": 1},
        "ratings": 2,
        "average_score": 2.0,
    }
    assert found["departments"][-1]["code"] is None and found["departments"][-1]["name"] == "未分派"


async def test_empty_month_says_so(config: AppConfig, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await report(config, "month", "--month", "2030-01", capsys=capsys)
    assert code == 0 and out.strip() == "2030-01 (Asia/Shanghai): no tickets or ratings"


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "november", "2026-00"])
async def test_bad_month_is_one_line_and_exit_2(
    config: AppConfig, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    code, out, err = await report(config, "month", "--month", bad, capsys=capsys)
    assert (code, out) == (2, "")
    assert err.startswith("wenzheng: --month") and err.count("\n") == 1


async def test_rebuild_recounts_from_tickets_and_ratings(config: AppConfig, capsys: pytest.CaptureFixture[str]) -> None:
    engine = create_engine(config.storage.database_url)
    try:
        await bulk_load(session_factory(engine), boundary_moments())  # bypasses the workflow: not counted
        async with session_factory(engine)() as session:
            assert (await stats.month(session, 2026, 11)).tickets == 0
    finally:
        await engine.dispose()
    code, out, _ = await report(config, "rebuild", capsys=capsys)
    assert code == 0 and "recounted" in out
    code, out, _ = await report(config, "month", "--month", "2026-11", "--json", capsys=capsys)
    november = [
        m for m in boundary_moments() if (m.astimezone(SHANGHAI).year, m.astimezone(SHANGHAI).month) == (2026, 11)
    ]
    assert 0 < len(november) < len(boundary_moments())
    assert json.loads(out)["tickets"] == len(november)


def test_wired_into_the_wenzheng_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        (Path(__file__).resolve().parents[3] / "config.yaml")
        .read_text(encoding="utf-8")
        .replace("sqlite+aiosqlite:///data/wenzheng.db", f"sqlite+aiosqlite:///{tmp_path}/w.db"),
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as stopped:
        cli.main(["report", "month", "--month", "2026-11", "--config", str(config)])
    assert stopped.value.code == 0
    assert "2026-11 (Asia/Shanghai): no tickets or ratings" in capsys.readouterr().out
