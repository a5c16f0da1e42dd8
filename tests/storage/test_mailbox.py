"""The web chat mailbox on the shared database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.mailbox import SqlMailbox
from storage.models import WebchatMailbox

T0 = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)


async def test_empty_mailbox(sessions: async_sessionmaker[AsyncSession]) -> None:
    box = SqlMailbox(sessions)
    assert await box.last_id("nobody") == 0
    assert await box.read_after("nobody", 0) == []


async def test_append_and_read_in_order(sessions: async_sessionmaker[AsyncSession]) -> None:
    box = SqlMailbox(sessions)
    await box.append("chat-a", "ob-1", {"text": "您的工单 WZ20261122-0001 已受理"}, T0)
    await box.append("chat-b", "ob-2", {"text": "for b"}, T0)
    await box.append("chat-a", "ob-3", {"text": "已分派", "choices": [{"id": "1", "label": "满意"}]}, T0)

    got = await box.read_after("chat-a", 0)
    assert [p for _, p in got] == [
        {"text": "您的工单 WZ20261122-0001 已受理"},
        {"text": "已分派", "choices": [{"id": "1", "label": "满意"}]},
    ]
    first_id, second_id = (i for i, _ in got)
    assert first_id < second_id
    assert await box.read_after("chat-a", first_id) == [(second_id, got[1][1])]
    assert await box.read_after("chat-a", second_id) == []
    assert await box.last_id("chat-a") == second_id
    assert [p for _, p in await box.read_after("chat-b", 0)] == [{"text": "for b"}]


async def test_same_delivery_twice_shows_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    box = SqlMailbox(sessions)
    await box.append("chat-a", "ob-9", {"text": "once"}, T0)
    await box.append("chat-a", "ob-9", {"text": "retry of the same outbox row"}, T0 + timedelta(seconds=5))
    assert [p for _, p in await box.read_after("chat-a", 0)] == [{"text": "once"}]
    async with sessions() as session:
        assert (await session.execute(select(func.count()).select_from(WebchatMailbox))).scalar_one() == 1


async def test_concurrent_appends_of_one_delivery(sessions: async_sessionmaker[AsyncSession]) -> None:
    box = SqlMailbox(sessions)
    await asyncio.gather(*(box.append("chat-a", "ob-race", {"n": i}, T0) for i in range(5)))
    assert len(await box.read_after("chat-a", 0)) == 1


async def test_read_after_limit(sessions: async_sessionmaker[AsyncSession]) -> None:
    box = SqlMailbox(sessions)
    for i in range(5):
        await box.append("chat-a", f"ob-{i}", {"n": i}, T0)
    page = await box.read_after("chat-a", 0, limit=3)
    assert [p["n"] for _, p in page] == [0, 1, 2]
    rest = await box.read_after("chat-a", page[-1][0], limit=3)
    assert [p["n"] for _, p in rest] == [3, 4]
