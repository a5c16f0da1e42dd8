"""Tickets: daily numbers, one ticket per intake form, append-only history."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.identities import IdentityRepository
from storage.models import Identity, Ticket, TicketEvent
from storage.tickets import NewTicket, TicketRepository, format_number

T0 = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, local day 20261122


@pytest.fixture
async def identity(sessions: async_sessionmaker[AsyncSession]) -> Identity:
    async with sessions.begin() as session:
        return await IdentityRepository().get_or_create(session, "telegram", "bot", "1001", T0, "zh")


def _new(identity: Identity, intake_key: str, **changes: object) -> NewTicket:
    base = NewTicket(
        intake_key=intake_key,
        citizen_id=identity.citizen_id,
        identity_id=identity.id,
        type_code="complaint",
        topic_code="transport",
        province="上海市",
        city="上海市",
        district="黄浦区",
        address="人民大道200号",
        lat=31.2304,
        lon=121.4737,
        details="公交站牌倒了",
        media=[{"kind": "image", "ref": "media/abc.jpg"}],
        phone="13800138000",
        locale="zh",
        department_code="transport",
        respond_due_at=T0 + timedelta(hours=8),
        answer_due_at=T0 + timedelta(days=9),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def _create(
    sessions: async_sessionmaker[AsyncSession], new: NewTicket, day: str = "20261122", now: datetime = T0
) -> tuple[Ticket, bool]:
    async with sessions.begin() as session:
        return await TicketRepository().create(session, new, local_day=day, now=now, actor="citizen:1001")


def test_format_number() -> None:
    assert format_number("20261122", 7) == "WZ20261122-0007"
    assert format_number("20261122", 12345) == "WZ20261122-12345"


async def test_create_stores_every_field(sessions: async_sessionmaker[AsyncSession], identity: Identity) -> None:
    ticket, created = await _create(sessions, _new(identity, "form-1"))
    assert created is True
    async with sessions() as session:
        row = await TicketRepository().by_number(session, "WZ20261122-0001")
    assert row is not None and row.id == ticket.id
    assert row.number == "WZ20261122-0001"
    assert row.status == "submitted"
    assert (row.citizen_id, row.identity_id) == (identity.citizen_id, identity.id)
    assert (row.type_code, row.topic_code, row.department_code) == ("complaint", "transport", "transport")
    assert (row.province, row.city, row.district, row.address) == ("上海市", "上海市", "黄浦区", "人民大道200号")
    assert row.lat == pytest.approx(31.2304) and row.lon == pytest.approx(121.4737)
    assert row.details == "公交站牌倒了"
    assert row.media == [{"kind": "image", "ref": "media/abc.jpg"}]
    assert row.phone == "13800138000"
    assert row.created_at == row.updated_at == T0
    assert row.respond_due_at == T0 + timedelta(hours=8)
    assert row.answer_due_at == T0 + timedelta(days=9)
    assert row.answer_due_at.tzinfo is not None


async def test_numbers_are_sequential_per_local_day(
    sessions: async_sessionmaker[AsyncSession], identity: Identity
) -> None:
    a, _ = await _create(sessions, _new(identity, "k1"), day="20261122")
    b, _ = await _create(sessions, _new(identity, "k2"), day="20261122")
    c, _ = await _create(sessions, _new(identity, "k3"), day="20261123", now=T0 + timedelta(days=1))
    d, _ = await _create(sessions, _new(identity, "k4"), day="20261123", now=T0 + timedelta(days=1))
    e, _ = await _create(sessions, _new(identity, "k5"), day="20261122")  # a late writer for yesterday
    assert [t.number for t in (a, b, c, d, e)] == [
        "WZ20261122-0001",
        "WZ20261122-0002",
        "WZ20261123-0001",
        "WZ20261123-0002",
        "WZ20261122-0003",
    ]


async def test_same_intake_key_files_one_ticket(sessions: async_sessionmaker[AsyncSession], identity: Identity) -> None:
    first, created = await _create(sessions, _new(identity, "form-x"))
    again, created_again = await _create(sessions, _new(identity, "form-x", details="double tap"))
    assert created is True
    assert created_again is False
    assert again.id == first.id
    assert again.number == first.number == "WZ20261122-0001"
    assert again.details == "公交站牌倒了"

    nxt, _ = await _create(sessions, _new(identity, "form-y"))
    assert nxt.number == "WZ20261122-0002"  # the repeat did not use up a number
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Ticket))).scalar_one() == 2
        events = await TicketRepository().events(session, first.id)
        by_key = await TicketRepository().by_intake_key(session, "form-x")
    assert [e.kind for e in events] == ["submitted"]  # no second "submitted" event
    assert by_key is not None and by_key.id == first.id


async def test_events_are_appended_in_order(sessions: async_sessionmaker[AsyncSession], identity: Identity) -> None:
    repo = TicketRepository()
    ticket, _ = await _create(sessions, _new(identity, "ev"))
    other, _ = await _create(sessions, _new(identity, "ev-other"))
    async with sessions.begin() as session:
        await repo.add_event(session, ticket.id, "assigned", "system", {"department": "transport"}, T0)
        await repo.add_event(session, other.id, "assigned", "system", {"department": "city"}, T0)
        await repo.add_event(session, ticket.id, "answered", "staff:张三", {"text": "已修复"}, T0 + timedelta(hours=3))
    async with sessions() as session:
        events = await repo.events(session, ticket.id)
    assert [(e.kind, e.actor, e.data) for e in events] == [
        ("submitted", "citizen:1001", {"number": "WZ20261122-0001"}),
        ("assigned", "system", {"department": "transport"}),
        ("answered", "staff:张三", {"text": "已修复"}),
    ]
    assert [e.created_at for e in events] == [T0, T0, T0 + timedelta(hours=3)]
    assert all(e.ticket_id == ticket.id for e in events)
    async with sessions() as session:
        total = (await session.execute(select(func.count()).select_from(TicketEvent))).scalar_one()
    assert total == 5


async def test_for_citizen_newest_first(sessions: async_sessionmaker[AsyncSession], identity: Identity) -> None:
    repo = TicketRepository()
    async with sessions.begin() as session:
        stranger = await IdentityRepository().get_or_create(session, "wechat", "gh", "o2", T0, "zh")
    old, _ = await _create(sessions, _new(identity, "a"), now=T0)
    newest, _ = await _create(sessions, _new(identity, "b"), now=T0 + timedelta(hours=2))
    tie1, _ = await _create(sessions, _new(identity, "c"), now=T0 + timedelta(hours=1))
    tie2, _ = await _create(sessions, _new(identity, "d"), now=T0 + timedelta(hours=1))
    await _create(sessions, _new(stranger, "e"), now=T0 + timedelta(hours=5))

    async with sessions() as session:
        listed = await repo.for_citizen(session, identity.citizen_id, limit=10)
        top2 = await repo.for_citizen(session, identity.citizen_id, limit=2)
        count = await repo.count_for_citizen(session, identity.citizen_id)
        stranger_count = await repo.count_for_citizen(session, stranger.citizen_id)
        nobody = await repo.for_citizen(session, 987654, limit=10)
    assert [t.id for t in listed] == [newest.id, tie2.id, tie1.id, old.id]  # same time: higher id first
    assert [t.id for t in top2] == [newest.id, tie2.id]
    assert (count, stranger_count) == (4, 1)
    assert nobody == []


async def test_lookups_of_missing_tickets(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = TicketRepository()
    async with sessions() as session:
        assert await repo.by_number(session, "WZ20261122-0001") is None
        assert await repo.by_intake_key(session, "nope") is None
        assert await repo.events(session, 1) == []


async def test_rolled_back_ticket_does_not_use_up_a_number(
    sessions: async_sessionmaker[AsyncSession], identity: Identity
) -> None:
    repo = TicketRepository()
    async with sessions() as session:
        await repo.create(session, _new(identity, "lost"), local_day="20261122", now=T0, actor="citizen")
        await session.rollback()
    ticket, _ = await _create(sessions, _new(identity, "kept"))
    assert ticket.number == "WZ20261122-0001"


async def test_concurrent_creates_get_distinct_consecutive_numbers(
    sessions: async_sessionmaker[AsyncSession], identity: Identity
) -> None:
    async def submit(i: int) -> str:
        ticket, created = await _create(sessions, _new(identity, f"concurrent-{i}"))
        assert created
        return ticket.number

    numbers = await asyncio.gather(*(submit(i) for i in range(20)))
    assert sorted(numbers) == [f"WZ20261122-{n:04d}" for n in range(1, 21)]
    async with sessions() as session:
        stored = (await session.execute(select(Ticket.number))).scalars().all()
    assert sorted(stored) == sorted(numbers)
