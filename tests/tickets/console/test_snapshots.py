"""Scorecard snapshots: the stored card is the one ``scorecard`` counts as of its moment, it stays
as of that moment until refreshed, and the minute loop refreshes only what is due."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import console_ops
from storage.database import session_factory
from storage.models import ScorecardSnapshot, Staff, Ticket
from tests.tickets.console.month import END, START, TZ, UNTIL, Month, at
from tests.tickets.console.test_scorecard import TOTAL, _pairs, november
from tickets import staff_actions
from tickets.console.scorecard import GroupBy, Kpi, scorecard
from tickets.console.snapshots import Snapshots, decode, encode, kept_months

__all__ = ["november"]


async def test_a_stored_snapshot_is_the_scorecard_as_of_its_time(november: Month) -> None:
    services = november.services
    snapshots = Snapshots(tz=TZ)
    readers = session_factory(services.reader_db)
    made = await snapshots.refresh(readers, services.sessions, start=START, end=END, by=GroupBy.DEPARTMENT, now=UNTIL)
    async with readers() as session:
        stored = await snapshots.stored(session, start=START, end=END, by=GroupBy.DEPARTMENT)
        live = await scorecard(session, start=START, end=END, tz=TZ, by=GroupBy.DEPARTMENT, now=UNTIL)
    assert stored is not None and stored.as_of == UNTIL
    assert stored.card == made.card == live  # every row, figure and median, through the JSON
    assert _pairs(stored.card.total.figures) == TOTAL
    assert stored.card.total.median_hours == 48.0
    for by in GroupBy:
        async with readers() as session:
            card = await scorecard(session, start=START, end=END, tz=TZ, by=by, now=UNTIL)
        assert decode(encode(card)) == card


async def test_the_snapshot_stays_as_of_its_time_until_refreshed(november: Month) -> None:
    """T6 was never claimed; 张三 claiming it now moves it from "nobody" to him by handler (the
    November 签收 stays: its deadline passed). The stored card shows it only after a refresh."""
    services = november.services
    snapshots = Snapshots(tz=TZ)
    readers = session_factory(services.reader_db)
    first = await snapshots.refresh(readers, services.sessions, start=START, end=END, by=GroupBy.HANDLER, now=UNTIL)
    nobody = next(r for r in first.card.rows if r.key is None)
    assert nobody.answer_due == 2  # T6, and T9 rejected unclaimed
    later = UNTIL + timedelta(hours=1)
    async with services.sessions.begin() as session:
        t6 = (await session.execute(select(Ticket).where(Ticket.number == november.numbers["T6"]))).scalar_one()
        staff = (await session.execute(select(Staff).where(Staff.name == "张三"))).scalar_one()
        await staff_actions.claim(services.workflow, session, staff, t6, later)
    async with readers() as session:
        kept = await snapshots.stored(session, start=START, end=END, by=GroupBy.HANDLER)
    assert kept is not None and kept.card == first.card and kept.as_of == UNTIL
    second = await snapshots.refresh(readers, services.sessions, start=START, end=END, by=GroupBy.HANDLER, now=later)
    assert next(r for r in second.card.rows if r.key is None).answer_due == 1  # T6 is 张三's now
    assert second.card.total.figures[Kpi.CLAIM_RATE] == first.card.total.figures[Kpi.CLAIM_RATE]
    older = await snapshots.refresh(readers, services.sessions, start=START, end=END, by=GroupBy.HANDLER, now=UNTIL)
    async with readers() as session:
        kept = await snapshots.stored(session, start=START, end=END, by=GroupBy.HANDLER)
    assert older.as_of == UNTIL and kept is not None and kept.as_of == later  # an older count never wins


async def test_the_loop_refreshes_this_month_every_minute_and_last_month_every_ten(november: Month) -> None:
    services = november.services
    snapshots = Snapshots(tz=TZ)
    readers = session_factory(services.reader_db)
    now = at(12, 1, 9)
    assert await snapshots.refresh_due(readers, services.sessions, now) == 2 * len(GroupBy)
    assert await snapshots.refresh_due(readers, services.sessions, now + timedelta(seconds=30)) == 0
    assert await snapshots.refresh_due(readers, services.sessions, now + timedelta(seconds=60)) == len(GroupBy)
    assert await snapshots.refresh_due(readers, services.sessions, now + timedelta(minutes=10)) == 2 * len(GroupBy)
    async with readers() as session:
        rows = (await session.execute(select(ScorecardSnapshot))).scalars().all()
    this, last = kept_months(now.date())
    assert {(r.period_start, r.period_end) for r in rows} == {(this.start, this.end), (last.start, last.end)}
    async with readers() as session:
        november_card = await snapshots.stored(session, start=START, end=END, by=GroupBy.DEPARTMENT)
    assert november_card is not None and _pairs(november_card.card.total.figures) == TOTAL


async def test_the_minute_loop_keeps_them(november: Month) -> None:
    """``bot.console_ops`` runs the refresh with the service's clock, reader pool and writer."""
    assert await console_ops.refresh_scorecards(november.services) == 2 * len(GroupBy)
    assert await console_ops.refresh_scorecards(november.services) == 0
