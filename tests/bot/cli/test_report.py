"""``wenzheng report …`` through ``bot.cli.report.run`` (and ``bot.cli``) on a real, temporary database."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import cli
from bot.cli import report as report_cli
from bot.config import AppConfig
from storage import stats
from storage.database import create_engine, session_factory
from tests.app_helpers import Clock, make_config
from tests.storage.test_stats import boundary_moments, bulk_load
from tests.tickets.console.month import Month, november

__all__ = ["november"]
SHANGHAI = ZoneInfo("Asia/Shanghai")
DECEMBER = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)  # November is over


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


async def test_month_table_is_the_scorecard_with_hand_counted_figures(
    november: Month, capsys: pytest.CaptureFixture[str]
) -> None:
    """The figures of ``tests/tickets/console/month.py`` (counted by hand there)."""
    config = november.services.config
    code, out, err = await report(config, "month", "--month", "2026-11", capsys=capsys, clock=Clock(DECEMBER))
    assert (code, err) == (0, "")
    table, definitions = out.split("\n\n")
    title, header, *rows = table.splitlines()
    assert title.startswith("2026-11 (Asia/Shanghai) by department:") and "latest rating" in title
    assert header.split() == [
        "DEPARTMENT", "NAME", "签收率", "响应率", "回退率", "办结率", "按时办结率", "满意率", "参评率", "重办率",
        "督办", "逾期", "重复诉求", "提醒", "黄牌", "红牌", "催办", "时长中位(h)",
    ]  # fmt: skip
    # The counts (test_scorecard.py): T14 is urban's 重复诉求; T5's reminder came in transport.
    assert [r.split() for r in rows] == [
        ["transport", "交通运输局", "100.0%(1/1)", "100.0%(1/1)", "-", "100.0%(1/1)", "100.0%(1/1)", "-",
         "0.0%(0/1)", "0.0%(0/1)", "0", "0", "0", "1", "0", "0", "0", "48.0"],
        ["urban", "城市管理局", "72.7%(8/11)", "63.6%(7/11)", "8.3%(1/12)", "90.9%(10/11)", "81.8%(9/11)",
         "87.5%(7/8)", "88.9%(8/9)", "33.3%(3/9)", "5", "2", "1", "6", "5", "3", "0", "48.0"],
        ["TOTAL", "75.0%(9/12)", "66.7%(8/12)", "8.3%(1/12)", "91.7%(11/12)", "83.3%(10/12)", "87.5%(7/8)",
         "80.0%(8/10)", "30.0%(3/10)", "5", "2", "1", "7", "5", "3", "0", "48.0"],
    ]  # fmt: skip
    assert (
        definitions.startswith("口径 / Definitions:") and "督办：" in definitions and "Escalated (督办):" in definitions
    )


async def test_month_by_district_json_and_exports(
    november: Month, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = november.services.config
    sheet, book = tmp_path / "m.csv", tmp_path / "m.xlsx"
    code, out, _ = await report(
        config, "month", "--month", "2026-11", "--by", "district", "--json", "--csv", str(sheet), "--xlsx", str(book),
        capsys=capsys, clock=Clock(DECEMBER),
    )  # fmt: skip
    assert code == 0
    found = json.loads(out)
    assert (found["month"], found["by"]) == ("2026-11", "district")
    north = next(r for r in found["rows"] if r["key"] == "市北区")
    assert (north["respond_due"], north["answer_due"], north["overdue"]) == (2, 2, 0)
    assert found["total"]["figures"]["satisfaction_rate"] == {"numerator": 7, "denominator": 8, "rate": 0.875}
    rows = list(csv.reader(io.StringIO(sheet.read_bytes().decode("utf-8-sig"))))
    assert [r[0] for r in rows] == ["区县", "市北区", "市南区", "合计"]
    cells = list(load_workbook(book, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert cells[-1][0] == "合计" and len(cells) == 4


async def test_the_current_month_is_the_month_so_far(november: Month, capsys: pytest.CaptureFixture[str]) -> None:
    # On 11-12 at 00:00 local, deadlines after it have not fallen: T1-T9 respond-due, T1-T3 and T13 answer-due.
    code, out, _ = await report(
        november.services.config, "month", "--json", capsys=capsys, clock=Clock(datetime(2026, 11, 11, 16, tzinfo=UTC))
    )
    total = json.loads(out)["total"]
    assert (code, total["respond_due"], total["answer_due"]) == (0, 9, 4)


async def test_month_default_is_this_month_in_the_service_time_zone(
    config: AppConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    # 17:00 UTC on 30 November is already 1 December in Beijing: the default month is December.
    code, out, _ = await report(
        config, "month", "--json", capsys=capsys, clock=Clock(datetime(2026, 11, 30, 17, tzinfo=UTC))
    )
    assert code == 0
    assert json.loads(out)["month"] == "2026-12" and json.loads(out)["rows"] == []


async def test_empty_month_says_so(config: AppConfig, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await report(config, "month", "--month", "2030-01", capsys=capsys)
    assert code == 0 and out.strip() == "2030-01 (Asia/Shanghai): no tickets due"


async def test_an_unwritable_export_is_one_line_and_exit_2(
    config: AppConfig, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = await report(
        config, "month", "--month", "2030-01", "--csv", str(tmp_path / "no" / "such" / "dir.csv"), capsys=capsys
    )
    assert code == 2 and err.startswith("wenzheng: cannot write") and err.count("\n") == 1


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
    november = [
        m for m in boundary_moments() if (m.astimezone(SHANGHAI).year, m.astimezone(SHANGHAI).month) == (2026, 11)
    ]
    assert 0 < len(november) < len(boundary_moments())
    engine = create_engine(config.storage.database_url)
    try:
        async with session_factory(engine)() as session:
            assert (await stats.month(session, 2026, 11)).tickets == len(november)
    finally:
        await engine.dispose()


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
    assert "2026-11 (Asia/Shanghai): no tickets due" in capsys.readouterr().out
