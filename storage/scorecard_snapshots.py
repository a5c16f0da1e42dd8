"""Stored scorecards (``scorecard_snapshots``): one row per period and grouping, replaced whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ScorecardSnapshot
from storage.upsert import table_of


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    computed_at: datetime
    body: dict[str, Any]


class ScorecardSnapshotRepository:
    async def get(self, session: AsyncSession, *, start: date, end: date, grouping: str) -> StoredSnapshot | None:
        stmt = select(ScorecardSnapshot.computed_at, ScorecardSnapshot.body).where(
            ScorecardSnapshot.period_start == start,
            ScorecardSnapshot.period_end == end,
            ScorecardSnapshot.grouping == grouping,
        )
        row = (await session.execute(stmt)).first()
        return None if row is None else StoredSnapshot(computed_at=row[0], body=dict(row[1]))

    async def put(
        self,
        session: AsyncSession,
        *,
        start: date,
        end: date,
        grouping: str,
        computed_at: datetime,
        body: dict[str, Any],
    ) -> None:
        """Insert or replace; of two workers refreshing at once the later write wins, and an older
        computation never replaces a newer one."""
        table = table_of(ScorecardSnapshot)
        conn = await session.connection()
        base = postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)
        stmt = base.values(
            period_start=start, period_end=end, grouping=grouping, computed_at=computed_at, body=body
        ).on_conflict_do_update(
            index_elements=["period_start", "period_end", "grouping"],
            set_={"computed_at": base.excluded.computed_at, "body": base.excluded.body},
            where=table.c.computed_at <= base.excluded.computed_at,
        )
        await conn.execute(stmt)
