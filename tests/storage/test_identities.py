"""Citizens and their channel identities."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.identities import IdentityRepository
from storage.models import Citizen, Identity

NOW = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)


async def _count(sessions: async_sessionmaker[AsyncSession], model: type[Citizen] | type[Identity]) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_get_or_create_creates_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = IdentityRepository()
    async with sessions.begin() as session:
        assert await repo.find(session, "telegram", "bot", "1001") is None
        first = await repo.get_or_create(session, "telegram", "bot", "1001", NOW, "en")
    async with sessions.begin() as session:
        again = await repo.get_or_create(session, "telegram", "bot", "1001", NOW + timedelta(hours=1), "zh")
        found = await repo.find(session, "telegram", "bot", "1001")

    assert again.id == first.id
    assert found is not None and found.id == first.id
    assert (first.channel, first.account, first.chat_id) == ("telegram", "bot", "1001")
    assert first.reachable is True
    assert first.last_inbound_at is None
    assert first.created_at == NOW
    async with sessions() as session:
        citizen = await session.get(Citizen, first.citizen_id)
    assert citizen is not None
    assert citizen.locale == "en"
    assert citizen.created_at == NOW
    assert await _count(sessions, Citizen) == 1
    assert await _count(sessions, Identity) == 1


async def test_each_channel_identity_is_its_own_citizen(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = IdentityRepository()
    async with sessions.begin() as session:
        a = await repo.get_or_create(session, "telegram", "bot", "1001", NOW, "zh")
        b = await repo.get_or_create(session, "telegram", "bot", "1002", NOW, "zh")
        c = await repo.get_or_create(session, "wechat", "gh_abc", "1001", NOW, "zh")
        d = await repo.get_or_create(session, "telegram", "otherbot", "1001", NOW, "zh")
    assert len({a.id, b.id, c.id, d.id}) == 4
    assert len({a.citizen_id, b.citizen_id, c.citizen_id, d.citizen_id}) == 4
    assert await _count(sessions, Citizen) == 4


async def test_touch_and_reachability(sessions: async_sessionmaker[AsyncSession]) -> None:
    repo = IdentityRepository()
    async with sessions.begin() as session:
        ident = await repo.get_or_create(session, "weibo", "5001", "u1", NOW, "zh")
    async with sessions.begin() as session:
        await repo.set_reachable(session, ident.id, False)
    async with sessions() as session:
        got = await repo.get(session, ident.id)
        assert got is not None and got.reachable is False

    later = NOW + timedelta(minutes=5)
    async with sessions.begin() as session:
        await repo.touch(session, ident.id, later)  # a message from them: reachable again
    async with sessions() as session:
        got = await repo.get(session, ident.id)
        assert got is not None
        assert got.reachable is True
        assert got.last_inbound_at == later
        assert got.last_inbound_at.tzinfo is not None
        assert await repo.get(session, ident.id + 1000) is None


async def test_concurrent_first_contact_makes_one_identity_and_one_citizen(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    repo = IdentityRepository()

    async def contact() -> int:
        async with sessions.begin() as session:
            ident = await repo.get_or_create(session, "webchat", "site", "c-77", datetime.now(UTC), "zh")
            return ident.id

    ids = await asyncio.gather(*(contact() for _ in range(8)))
    assert len(set(ids)) == 1
    assert await _count(sessions, Identity) == 1
    assert await _count(sessions, Citizen) == 1  # the losers' citizens were removed


async def test_rollback_undoes_a_new_identity(sessions: async_sessionmaker[AsyncSession]) -> None:
    """get_or_create is part of the caller's transaction: rolling that back leaves nothing."""
    repo = IdentityRepository()
    async with sessions() as session:
        await repo.get_or_create(session, "telegram", "bot", "2002", NOW, "zh")
        await session.rollback()
    async with sessions() as session:
        assert await repo.find(session, "telegram", "bot", "2002") is None
    assert await _count(sessions, Citizen) == 0
