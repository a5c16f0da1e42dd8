"""``wenzheng report month|rebuild``: the month's scorecard for operators.

``month`` prints the scorecard of ``tickets.console.scorecard`` for a calendar month in
``server.timezone`` (like ticket numbers): per department, topic or district (``--by``), each of
签收率, 响应率, 办结率, 按时办结率, 满意率 (each ticket's latest rating), 参评率, 重办率, 回退率 as a rate
with its numerator and denominator, the 督办 count, the overdue count (answer-due tickets not
concluded by their deadline), the counts of 重复诉求, reminders, 黄牌, 红牌 and 催办 in the month, and
the median hours to the first answer. The current month is the month so far (deadlines that have
not come yet are not counted). The definitions, and what "due in the month" means, are written
once, in that module, and printed under the table in Chinese and English. ``--json`` is for scripts,
``--csv FILE`` / ``--xlsx FILE`` write the same table for Excel. ``rebuild`` recounts the daily
department roll-ups (``storage.stats``) from the tickets and ratings: needed only after
``server.timezone`` changes or after rows were loaded around the service. Operator mistakes are one
line on stderr and exit code 2, like ``staff``.
"""

from __future__ import annotations

import argparse
import calendar
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import directory_from
from bot.cli import hot_report
from bot.cli.runner import OperatorError, on_database, text_table
from bot.config import AppConfig
from storage import stats
from storage.models import utcnow
from tickets.console.export import Names, scorecard_csv, scorecard_xlsx
from tickets.console.scorecard import (
    KPI_NAMES,
    TALLY_NAMES,
    GroupBy,
    Kpi,
    Scorecard,
    ScoreRow,
    Tally,
    definitions,
    scorecard,
)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
UNROUTED_NAME = "未分派"  # tickets filed but not routed yet
RATES = [k for k in Kpi if k is not Kpi.ESCALATIONS]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser("report", help="department statistics")
    commands = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    month = commands.add_parser("month", help="the month's scorecard: 签收率, 响应率, 办结率, 满意率 …")
    month.add_argument("--month", metavar="YYYY-MM", help="a calendar month in server.timezone (default: this one)")
    month.add_argument(
        "--by", choices=[g.value for g in GroupBy if g is not GroupBy.HANDLER], default="department", help="rows"
    )
    month.add_argument("--json", action="store_true", help="print JSON instead of a table")
    month.add_argument("--csv", type=Path, metavar="FILE", help="also write the table as CSV (UTF-8, for Excel)")
    month.add_argument("--xlsx", type=Path, metavar="FILE", help="also write the table as an Excel workbook")
    rebuild = commands.add_parser("rebuild", help="recount the statistics from tickets and ratings")
    hot = commands.add_parser("hot", help="hot topics: what rose in the last days, raised by many citizens")
    hot.add_argument("--days", type=int, default=None, help="the recent window (default 7, against 4x as long before)")
    hot.add_argument("--json", action="store_true", help="print JSON instead of lines")
    for command in (month, rebuild, hot):
        command.add_argument("--config", default="config.yaml")


def parse_month(value: str | None, now: datetime, tz: ZoneInfo) -> tuple[int, int]:
    """``YYYY-MM``, or the current month in the service's time zone."""
    if value is None:
        local = now.astimezone(tz)
        return local.year, local.month
    found = _MONTH.match(value.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise OperatorError(f"--month {value!r}: expected YYYY-MM, e.g. 2026-11")
    return int(found.group(1)), int(found.group(2))


async def run(args: argparse.Namespace, config: AppConfig, *, clock: Callable[[], datetime] = utcnow) -> int:
    """Perform ``args.report_command``; the exit code is the result, output goes to stdout/stderr."""
    tz = ZoneInfo(config.server.timezone)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
        match args.report_command:
            case "month":
                year, month = parse_month(args.month, clock(), tz)
                first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
                async with sessions() as session:
                    card = await scorecard(session, start=first, end=last, tz=tz, by=GroupBy(args.by), now=clock())
                names = Names(taxonomy=config.taxonomy.build(), directory=directory_from(config))
                print(
                    json.dumps(as_json(card, config, names), ensure_ascii=False, indent=2)
                    if args.json
                    else as_text(card, config, names)
                )
                write_files(card, names, csv_path=args.csv, xlsx_path=args.xlsx)
            case "rebuild":
                async with sessions.begin() as session:
                    await stats.rebuild(session, tz)
                print(f"department statistics recounted (days in {config.server.timezone})")
            case "hot":
                print(await hot_report.report(sessions, config, clock(), days=args.days, as_json=args.json))
            case other:
                raise OperatorError(f"unknown report command {other!r}")

    return await on_database(config, work)


# --- output -----------------------------------------------------------------------------------------


def _label(row: ScoreRow, by: GroupBy, names: Names) -> str:
    if row.key is None:
        return UNROUTED_NAME if by is GroupBy.DEPARTMENT else "-"
    if by is GroupBy.DEPARTMENT:
        return names.department(row.key, "zh")
    if by is GroupBy.TOPIC:
        return names.topic(row.key, "zh")
    return row.key


def _cell(row: ScoreRow, kpi: Kpi) -> str:
    figure = row.figures[kpi]
    if figure.rate is None:
        return "-"
    return f"{figure.rate * 100:.1f}%({figure.numerator}/{figure.denominator})"


def overdue(row: ScoreRow) -> int:
    """Answer-due tickets not concluded by their first-round deadline."""
    on_time = row.figures[Kpi.ON_TIME_RATE]
    return on_time.denominator - on_time.numerator


def _median(row: ScoreRow) -> str:
    return "-" if row.median_hours is None else f"{row.median_hours:.1f}"


def as_text(card: Scorecard, config: AppConfig, names: Names) -> str:
    title = f"{card.start:%Y-%m} ({config.server.timezone})"
    if not card.rows:
        return f"{title}: no tickets due"
    header = [
        card.by.value.upper(),
        "NAME",
        *(KPI_NAMES[k]["zh"] for k in RATES),
        "督办",
        "逾期",
        *(TALLY_NAMES[c]["zh"] for c in Tally),
        "时长中位(h)",
    ]
    rows = [header]
    for row, code, name in [
        *((r, r.key or "-", _label(r, card.by, names)) for r in card.rows),
        (card.total, "TOTAL", ""),
    ]:
        rows.append(
            [
                code,
                name,
                *(_cell(row, k) for k in RATES),
                str(row.figures[Kpi.ESCALATIONS].numerator),
                str(overdue(row)),
                *(str(row.tallies[c]) for c in Tally),
                _median(row),
            ]
        )
    lines = [
        f"{title} by {card.by.value}: tickets whose first deadline fell in the month, rate(numerator/denominator); "
        "满意率 counts each ticket's latest rating (definitions: tickets/console/scorecard.py)",
        *text_table(rows),
        "",
        *_definitions(),
    ]
    return "\n".join(lines)


def _definitions() -> list[str]:
    """Every figure's definition, Chinese then English (``scorecard.DEFINITIONS``)."""
    lines = ["口径 / Definitions:"]
    for (zh_name, zh), (en_name, en) in zip(definitions("zh"), definitions("en"), strict=True):
        lines.append(f"  {zh_name}：{zh}" if zh_name else f"  {zh}")
        lines.append(f"    {en_name}: {en}" if en_name else f"    {en}")
    return lines


def _row_json(row: ScoreRow, by: GroupBy, names: Names) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": _label(row, by, names) if row.key is not None or by is GroupBy.DEPARTMENT else None,
        "respond_due": row.respond_due,
        "answer_due": row.answer_due,
        "overdue": overdue(row),
        "median_hours": row.median_hours,
        "counts": {c.value: n for c, n in row.tallies.items()},
        "figures": {
            k.value: {"numerator": f.numerator, "denominator": f.denominator, "rate": f.rate}
            for k, f in row.figures.items()
        },
    }


def as_json(card: Scorecard, config: AppConfig, names: Names) -> dict[str, Any]:
    return {
        "month": f"{card.start:%Y-%m}",
        "timezone": config.server.timezone,
        "by": card.by.value,
        "rows": [_row_json(r, card.by, names) for r in card.rows],
        "total": {k: v for k, v in _row_json(card.total, card.by, names).items() if k not in ("key", "name")},
    }


def write_files(card: Scorecard, names: Names, *, csv_path: Path | None, xlsx_path: Path | None) -> None:
    """The table as the console exports it (``tickets.console.export``)."""
    try:
        if csv_path is not None:
            csv_path.write_bytes(scorecard_csv(card, names=names))
        if xlsx_path is not None:
            xlsx_path.write_bytes(scorecard_xlsx(card, names=names))
    except OSError as exc:
        raise OperatorError(f"cannot write {exc.filename}: {exc.strerror}") from exc
