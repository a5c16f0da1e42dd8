"""Department statistics: tickets by status and ratings, per department and month.

Counting a month straight from ``tickets`` reads every ticket of the month (~41,000 at a million
tickets: 47 ms on SQLite, 41 ms on PostgreSQL even index-only, BENCHMARKS.md). So the counts are
rolled up per department and *local* day as they change (``department_daily_stats``,
``department_daily_ratings``) and a month is the sum of at most ~31 x departments x statuses rows.

Days are calendar days in the service's time zone (``server.timezone``, Asia/Shanghai by default),
like ticket numbers (``WZ20261122-…``) and answer deadlines, so "November" in a report is the
November an official means: a ticket filed at 01:00 on 1 December Beijing time is December's.

What is counted, and when it changes (always in the transaction of the change itself):

* tickets: by the local day they were **created** and their **current** department and status.
  Filing adds one (``TicketRepository.create``); every status or department change moves one from
  the old (department, status) to the new one (``Workflow._move``, the one place they change).
* ratings: by the local day they were **given** and the department rated (``RatingRepository.add``).

Each change is an ``INSERT … ON CONFLICT DO UPDATE SET n = n + :delta`` (``storage.upsert``), so
concurrent workers never lose a count; ``backfill`` rebuilds both tables from scratch with one
``INSERT … SELECT … GROUP BY`` each (the migration that created them, the bench loader, and
``wenzheng report rebuild`` after a change of ``server.timezone``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from types import MappingProxyType
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Date, Table, case, cast, delete, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import DepartmentDailyRatings, DepartmentDailyStats, Rating, Ticket, UtcDateTime
from storage.upsert import add_to_counters, table_of

DEFAULT_TIMEZONE = "Asia/Shanghai"  # the config's default; the migration's back-fill uses it when not told
UNROUTED = ""  # the roll-ups' department for a ticket no department owns yet (NULL in ``tickets``)


# --- values -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DepartmentMonth:
    """One department's month. ``department_code`` is None for tickets not routed yet."""

    department_code: str | None
    by_status: Mapping[str, int]  # only statuses with tickets
    ratings: int
    score_sum: int  # 1 满意, 2 基本满意, 3 不满意: lower is better

    @property
    def tickets(self) -> int:
        return sum(self.by_status.values())

    @property
    def average_score(self) -> float | None:
        return None if self.ratings == 0 else self.score_sum / self.ratings


@dataclass(frozen=True, slots=True)
class MonthStats:
    """Tickets created in the month by their current status, and ratings given in the month."""

    year: int
    month: int
    departments: tuple[DepartmentMonth, ...]  # by code; the unrouted (None) last

    def department(self, code: str | None) -> DepartmentMonth | None:
        return next((d for d in self.departments if d.department_code == code), None)

    @property
    def tickets(self) -> int:
        return sum(d.tickets for d in self.departments)

    @property
    def ratings(self) -> int:
        return sum(d.ratings for d in self.departments)

    @property
    def average_score(self) -> float | None:
        rated = self.ratings
        return None if rated == 0 else sum(d.score_sum for d in self.departments) / rated


@dataclass(frozen=True, slots=True)
class RollupTables:
    """The tables ``backfill`` reads and writes. A parameter, so the migration can hand in the
    tables as they were at its revision while the application hands in today's models."""

    tickets: Table
    ratings: Table
    daily_stats: Table
    daily_ratings: Table


def model_tables() -> RollupTables:
    return RollupTables(
        table_of(Ticket), table_of(Rating), table_of(DepartmentDailyStats), table_of(DepartmentDailyRatings)
    )


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar day of ``moment`` in the service's time zone: the roll-ups' day."""
    return moment.astimezone(tz).date()


def month_range(year: int, month: int) -> tuple[date, date]:
    """First day of the month and first day of the next one."""
    if not 1 <= month <= 12:
        raise ValueError(f"no month {month}")
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


# --- keeping the roll-ups ---------------------------------------------------------------------------


def _ticket_key(day: date, department_code: str | None, status: str) -> dict[str, object]:
    return {"day": day, "department_code": department_code or UNROUTED, "status": status}


async def record_filing(session: AsyncSession, *, day: date, department_code: str | None, status: str) -> None:
    """A new ticket, created on local ``day``."""
    await add_to_counters(
        session, table_of(DepartmentDailyStats), _ticket_key(day, department_code, status), {"tickets": 1}
    )


async def record_change(
    session: AsyncSession,
    *,
    day: date,
    before: tuple[str | None, str],
    after: tuple[str | None, str],
) -> None:
    """A ticket created on local ``day`` moved from (department, status) ``before`` to ``after``.

    The two rows are updated in key order, the same in every transaction, so two workers moving
    tickets between the same rows in opposite directions wait for each other instead of deadlocking."""
    old = (before[0] or UNROUTED, before[1])
    new = (after[0] or UNROUTED, after[1])
    if old == new:
        return
    table = table_of(DepartmentDailyStats)
    for (department, status), delta in sorted(((old, -1), (new, 1))):
        await add_to_counters(session, table, _ticket_key(day, department, status), {"tickets": delta})


async def record_rating(session: AsyncSession, *, day: date, department_code: str | None, score: int) -> None:
    """A rating given on local ``day`` to ``department_code``."""
    key = {"day": day, "department_code": department_code or UNROUTED}
    await add_to_counters(session, table_of(DepartmentDailyRatings), key, {"ratings": 1, "score_sum": score})


# --- reading ----------------------------------------------------------------------------------------


async def month(session: AsyncSession, year: int, month: int) -> MonthStats:
    """Per department: tickets created in the local month by current status; ratings given in it."""
    first, following = month_range(year, month)
    s = table_of(DepartmentDailyStats)
    r = table_of(DepartmentDailyRatings)
    counts = await session.execute(
        select(s.c.department_code, s.c.status, func.sum(s.c.tickets))
        .where(s.c.day >= first, s.c.day < following)
        .group_by(s.c.department_code, s.c.status)
    )
    rated = await session.execute(
        select(r.c.department_code, func.sum(r.c.ratings), func.sum(r.c.score_sum))
        .where(r.c.day >= first, r.c.day < following)
        .group_by(r.c.department_code)
    )
    by_status: dict[str, dict[str, int]] = {}
    for department, status, n in counts.all():
        if n:  # a (department, day, status) row can be back at 0 after tickets moved on
            by_status.setdefault(str(department), {})[str(status)] = int(n)
    ratings: dict[str, tuple[int, int]] = {}
    for department, n, total in rated.all():
        if n:
            ratings[str(department)] = (int(n), int(total))
    codes = sorted(set(by_status) | set(ratings), key=lambda code: (code == UNROUTED, code))
    return MonthStats(
        year,
        month,
        tuple(
            DepartmentMonth(
                None if code == UNROUTED else code,
                MappingProxyType(dict(sorted(by_status.get(code, {}).items()))),
                *ratings.get(code, (0, 0)),
            )
            for code in codes
        ),
    )


# --- rebuilding -------------------------------------------------------------------------------------


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def offsets(tz: ZoneInfo, first: datetime, last: datetime) -> list[tuple[datetime, int]]:
    """The UTC offsets (seconds) ``tz`` uses between ``first`` and ``last``: (from this UTC
    instant, offset) pairs, one pair for a zone without daylight saving such as Asia/Shanghai."""

    def offset(at: datetime) -> int:
        found = at.astimezone(tz).utcoffset()
        return 0 if found is None else int(found.total_seconds())

    pieces = [(first, offset(first))]
    at = first
    while at < last:
        step_end = min(at + timedelta(days=1), last)
        if offset(step_end) != pieces[-1][1]:
            lo, hi = at, step_end  # the change lies in (lo, hi]: find it to the microsecond
            while hi - lo > timedelta(microseconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == pieces[-1][1] else (lo, mid)
            pieces.append((hi, offset(hi)))
        at = step_end
    return pieces


def local_day_sql(
    dialect: str, column: ColumnElement[datetime], tz: ZoneInfo, first: datetime, last: datetime
) -> ColumnElement[date]:
    """SQL for the local day of a UTC timestamp column, for rows between ``first`` and ``last``.

    PostgreSQL knows time zones (``timezone(zone, ts)``). SQLite only adds fixed offsets, so the
    offsets in force over the rows' range are spelled out as a ``CASE`` (one branch for China)."""
    if dialect == "postgresql":
        return cast(func.timezone(tz.key, column), Date)
    if dialect != "sqlite":
        raise NotImplementedError(f"local days on {dialect}")
    pieces = offsets(tz, _as_utc(first), _as_utc(last))

    def shifted(seconds: int) -> ColumnElement[date]:
        return func.date(column, f"{seconds:+d} seconds", type_=Date)

    if len(pieces) == 1:
        return shifted(pieces[0][1])
    branches = [
        (column < literal(start, UtcDateTime()), shifted(seconds)) for (_, seconds), (start, _) in pairwise(pieces)
    ]
    return case(*branches, else_=shifted(pieces[-1][1]))


def backfill(connection: Connection, tz: ZoneInfo, tables: RollupTables) -> None:
    """Fill the (empty) roll-ups from ``tickets`` and ``ratings``: one ``INSERT … SELECT … GROUP
    BY`` each, so it runs inside the database whatever the size."""
    dialect = connection.dialect.name
    sources = (
        (tables.tickets, tables.daily_stats, True),
        (tables.ratings, tables.daily_ratings, False),
    )
    for source, target, by_status in sources:
        first, last = connection.execute(select(func.min(source.c.created_at), func.max(source.c.created_at))).one()
        if first is None:
            continue
        day = local_day_sql(dialect, source.c.created_at, tz, first, last)
        keyed = select(
            day.label("day"),
            func.coalesce(source.c.department_code, UNROUTED).label("department_code"),
            (source.c.status if by_status else source.c.score).label("value"),
        ).subquery()
        keys = [keyed.c.day, keyed.c.department_code]
        if by_status:
            rows = select(*keys, keyed.c.value, func.count()).group_by(*keys, keyed.c.value)
            columns = ["day", "department_code", "status", "tickets"]
        else:
            rows = select(*keys, func.count(), func.sum(keyed.c.value)).group_by(*keys)
            columns = ["day", "department_code", "ratings", "score_sum"]
        connection.execute(insert(target).from_select(columns, rows))


async def rebuild(session: AsyncSession, tz: ZoneInfo) -> None:
    """Recount both roll-ups from scratch in the caller's transaction (bulk loads that bypass the
    workflow; a changed ``server.timezone``, which moves the day boundaries)."""
    tables = model_tables()
    await session.execute(delete(tables.daily_stats))
    await session.execute(delete(tables.daily_ratings))
    await session.run_sync(lambda sync: backfill(sync.connection(), tz, tables))
