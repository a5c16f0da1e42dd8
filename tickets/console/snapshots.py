"""Stored scorecards: the current and the previous month, per grouping, as of a moment.

Counting a month at 1,000,000 tickets takes a quarter to half a second (BENCHMARKS.md), too slow
for a page. So the minute loop (``bot.console_ops``) computes each (month, grouping) with
``scorecard.scorecard`` itself, the one implementation of the definitions, and stores the result
with the moment it was computed; the console and /public show it with that moment ("as of
HH:MM"). A snapshot is exact as of its time; anything filed, answered or rated since shows at the
next refresh (at most a minute for this month, ``PREVIOUS_EVERY`` for last month, whose late
ratings still count), or at once when a supervisor asks for a refresh. Other periods (a range, an
older month) are counted on request, as before.

The body carries its format's ``version``: a row written in an older format (before the counts of
issue #16, or by a worker not yet upgraded) is treated as missing, so it is counted again at once
rather than shown without them; the table itself did not change, so no migration is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.scorecard_snapshots import ScorecardSnapshotRepository
from tickets.console.scorecard import Figure, GroupBy, Kpi, Scorecard, ScoreRow, Tally, scorecard

CURRENT_EVERY = timedelta(seconds=55)  # the loop runs every minute: a snapshot older than this is due
PREVIOUS_EVERY = timedelta(minutes=10)
VERSION = 2  # 2: rows carry ``tallies`` (重复诉求 and the 督办 steps) and 督办 counts cleared cards


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    card: Scorecard
    as_of: datetime  # the ``now`` it was computed with


@dataclass(frozen=True, slots=True)
class Month:
    start: date
    end: date


def month_of(day: date) -> Month:
    first = day.replace(day=1)
    return Month(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))


def kept_months(today: date) -> tuple[Month, Month]:
    """This month and the one before: the periods kept as snapshots."""
    this = month_of(today)
    return this, month_of(this.start - timedelta(days=1))


def is_kept(start: date, end: date, today: date) -> bool:
    return Month(start, end) in kept_months(today)


def _row_body(row: ScoreRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "label": row.label,
        "figures": {k.value: [f.numerator, f.denominator] for k, f in row.figures.items()},
        "median_hours": row.median_hours,
        "respond_due": row.respond_due,
        "answer_due": row.answer_due,
        "tallies": {c.value: n for c, n in row.tallies.items()},
    }


def _row(body: Mapping[str, Any]) -> ScoreRow:
    figures = {Kpi(k): Figure(Kpi(k), int(n), int(d)) for k, (n, d) in body["figures"].items()}
    median = body["median_hours"]
    return ScoreRow(
        key=body["key"],
        label=body["label"],
        figures=MappingProxyType(figures),
        median_hours=None if median is None else float(median),
        respond_due=int(body["respond_due"]),
        answer_due=int(body["answer_due"]),
        tallies=MappingProxyType({c: int(body["tallies"].get(c.value, 0)) for c in Tally}),
    )


def encode(card: Scorecard) -> dict[str, Any]:
    return {
        "version": VERSION,
        "start": card.start.isoformat(),
        "end": card.end.isoformat(),
        "by": card.by.value,
        "rows": [_row_body(r) for r in card.rows],
        "total": _row_body(card.total),
    }


def up_to_date(body: Mapping[str, Any]) -> bool:
    """Written in this format (an older one lacks figures this code shows)."""
    return body.get("version") == VERSION


def decode(body: Mapping[str, Any]) -> Scorecard:
    return Scorecard(
        start=date.fromisoformat(body["start"]),
        end=date.fromisoformat(body["end"]),
        by=GroupBy(body["by"]),
        rows=tuple(_row(r) for r in body["rows"]),
        total=_row(body["total"]),
    )


class Snapshots:
    def __init__(self, *, tz: ZoneInfo, repo: ScorecardSnapshotRepository | None = None) -> None:
        self._tz = tz
        self._repo = repo or ScorecardSnapshotRepository()

    async def stored(self, session: AsyncSession, *, start: date, end: date, by: GroupBy) -> Snapshot | None:
        found = await self._repo.get(session, start=start, end=end, grouping=by.value)
        if found is None or not up_to_date(found.body):
            return None
        return Snapshot(card=decode(found.body), as_of=found.computed_at)

    async def count(self, session: AsyncSession, *, start: date, end: date, by: GroupBy, now: datetime) -> Snapshot:
        """Count as of ``now`` with ``scorecard`` (a read: on SQLite, a reader session, so the
        single writer is not held for the half second it takes at 1,000,000 tickets)."""
        card = await scorecard(session, start=start, end=end, tz=self._tz, by=by, now=now)
        return Snapshot(card=card, as_of=now)

    async def store(self, session: AsyncSession, snapshot: Snapshot) -> None:
        """Keep it (the caller commits); an older count never replaces a newer one."""
        card = snapshot.card
        await self._repo.put(
            session,
            start=card.start,
            end=card.end,
            grouping=card.by.value,
            computed_at=snapshot.as_of,
            body=encode(card),
        )

    async def refresh(
        self,
        readers: async_sessionmaker[AsyncSession],
        writers: async_sessionmaker[AsyncSession],
        *,
        start: date,
        end: date,
        by: GroupBy,
        now: datetime,
    ) -> Snapshot:
        async with readers() as session:
            snapshot = await self.count(session, start=start, end=end, by=by, now=now)
        async with writers.begin() as session:
            await self.store(session, snapshot)
        return snapshot

    async def due(self, session: AsyncSession, now: datetime) -> list[tuple[Month, GroupBy]]:
        """The kept (month, grouping) pairs whose snapshot is missing or older than its interval."""
        current, previous = kept_months(now.astimezone(self._tz).date())
        found: list[tuple[Month, GroupBy]] = []
        for month, every in ((current, CURRENT_EVERY), (previous, PREVIOUS_EVERY)):
            for by in GroupBy:
                stored = await self._repo.get(session, start=month.start, end=month.end, grouping=by.value)
                if stored is None or now - stored.computed_at >= every or not up_to_date(stored.body):
                    found.append((month, by))
        return found

    async def refresh_due(
        self, readers: async_sessionmaker[AsyncSession], writers: async_sessionmaker[AsyncSession], now: datetime
    ) -> int:
        """Count and store every snapshot that is due; how many were. Several workers may run
        this at once: the later of two counts is kept, and a fresh row makes the next run skip it."""
        async with readers() as session:
            due = await self.due(session, now)
        for month, by in due:
            await self.refresh(readers, writers, start=month.start, end=month.end, by=by, now=now)
        return len(due)
