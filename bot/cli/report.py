"""``wenzheng report month|rebuild``: department statistics for operators.

``month`` prints, per department, the tickets created in a month by their current status and the
ratings given in it (count and average score: 1 满意 … 3 不满意), from the daily roll-ups in
``storage.stats``, so it answers in milliseconds at millions of tickets and can run against the
live database. Months are calendar months in ``server.timezone``, like ticket numbers. ``--json``
is for scripts and dashboards. ``rebuild`` recounts the roll-ups from the tickets and ratings:
needed only after ``server.timezone`` changes (the day boundaries move) or after rows were loaded
around the service. Operator mistakes are one line on stderr and exit code 2, like ``staff``.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import hot_report
from bot.cli.runner import OperatorError, on_database, text_table
from bot.config import AppConfig
from storage import stats
from storage.models import utcnow
from tickets.lifecycle import Status

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
UNROUTED_NAME = "未分派"  # tickets filed but not routed yet


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser("report", help="department statistics")
    commands = report.add_subparsers(dest="report_command", required=True, metavar="COMMAND")
    month = commands.add_parser("month", help="tickets by status and ratings per department for one month")
    month.add_argument("--month", metavar="YYYY-MM", help="a calendar month in server.timezone (default: this one)")
    month.add_argument("--json", action="store_true", help="print JSON instead of a table")
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
                async with sessions() as session:
                    found = await stats.month(session, year, month)
                print(
                    json.dumps(as_json(found, config), ensure_ascii=False, indent=2)
                    if args.json
                    else as_text(found, config)
                )
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


def _names(config: AppConfig) -> dict[str, str]:
    return {d.code: d.name.zh for d in config.departments}


def _statuses(found: stats.MonthStats) -> list[str]:
    """The statuses present in the month, in lifecycle order (unknown ones, if any, last)."""
    present = {s for d in found.departments for s in d.by_status}
    known = [s.value for s in Status if s.value in present]
    return known + sorted(present - set(known))


def _average(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def as_text(found: stats.MonthStats, config: AppConfig) -> str:
    title = f"{found.year:04d}-{found.month:02d} ({config.server.timezone})"
    if not found.departments:
        return f"{title}: no tickets or ratings"
    names = _names(config)
    statuses = _statuses(found)
    rows = [["DEPARTMENT", "NAME", "TICKETS", *(s.upper() for s in statuses), "RATINGS", "AVG SCORE"]]
    for dept in found.departments:
        code = dept.department_code
        rows.append(
            [
                code or "-",
                UNROUTED_NAME if code is None else names.get(code, "?"),
                str(dept.tickets),
                *(str(dept.by_status.get(s, 0)) for s in statuses),
                str(dept.ratings),
                _average(dept.average_score),
            ]
        )
    totals = {s: sum(d.by_status.get(s, 0) for d in found.departments) for s in statuses}
    rows.append(
        [
            "TOTAL",
            "",
            str(found.tickets),
            *(str(totals[s]) for s in statuses),
            str(found.ratings),
            _average(found.average_score),
        ]
    )
    lines = [
        f"{title}: tickets created in the month by current status; ratings given in the month "
        "(score 1 满意, 2 基本满意, 3 不满意)",
        *text_table(rows),
    ]
    return "\n".join(lines)


def as_json(found: stats.MonthStats, config: AppConfig) -> dict[str, Any]:
    names = _names(config)
    return {
        "month": f"{found.year:04d}-{found.month:02d}",
        "timezone": config.server.timezone,
        "tickets": found.tickets,
        "ratings": found.ratings,
        "average_score": found.average_score,
        "departments": [
            {
                "code": d.department_code,
                "name": UNROUTED_NAME if d.department_code is None else names.get(d.department_code),
                "tickets": d.tickets,
                "by_status": dict(d.by_status),
                "ratings": d.ratings,
                "average_score": d.average_score,
            }
            for d in found.departments
        ],
    }
