"""The inbound log: one row per platform key, the stored replies answer redeliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.identities import IdentityRepository
from storage.inbound import InboundRepository, Recorded
from storage.models import InboundMessage

T0 = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


@pytest.fixture
async def identity_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions.begin() as session:
        ident = await IdentityRepository().get_or_create(session, "wechat", "gh_city", "oUser1", T0, "zh")
        return ident.id


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    identity_id: int,
    key: str,
    *,
    channel: str = "wechat",
    text: str = "路灯坏了",
    received_at: datetime = T0,
    payload: dict[str, Any] | None = None,
) -> Recorded:
    async with sessions.begin() as session:
        return await InboundRepository().record(
            session,
            channel=channel,
            message_key=key,
            identity_id=identity_id,
            kind="text",
            text=text,
            payload=payload if payload is not None else {"lat": 31.2, "lon": 121.5, "label": "人民广场"},
            raw="<xml><MsgId>1</MsgId></xml>",
            received_at=received_at,
        )


async def test_record_stores_the_message(sessions: async_sessionmaker[AsyncSession], identity_id: int) -> None:
    first = await _record(sessions, identity_id, "msg-1")
    assert first.new is True
    assert first.replies is None
    async with sessions() as session:
        row = await session.get(InboundMessage, first.message_id)
    assert row is not None
    assert (row.channel, row.message_key, row.identity_id, row.kind) == ("wechat", "msg-1", identity_id, "text")
    assert row.text == "路灯坏了"
    assert row.payload == {"lat": 31.2, "lon": 121.5, "label": "人民广场"}
    assert row.raw == "<xml><MsgId>1</MsgId></xml>"
    assert row.received_at == T0
    assert row.processed_at is None
    assert row.replies is None


async def test_redelivery_is_recognised(sessions: async_sessionmaker[AsyncSession], identity_id: int) -> None:
    first = await _record(sessions, identity_id, "msg-1")
    second = await _record(sessions, identity_id, "msg-1", text="different body, same key")

    assert second == Recorded(first.message_id, False, None)  # stored, not yet answered: no replies
    async with sessions() as session:
        count = (await session.execute(select(func.count()).select_from(InboundMessage))).scalar_one()
        row = await session.get(InboundMessage, first.message_id)
    assert count == 1
    assert row is not None and row.text == "路灯坏了"  # the redelivery changed nothing


async def test_same_key_on_another_channel_is_a_new_message(
    sessions: async_sessionmaker[AsyncSession], identity_id: int
) -> None:
    a = await _record(sessions, identity_id, "42", channel="wechat")
    b = await _record(sessions, identity_id, "42", channel="telegram")
    assert a.new and b.new
    assert a.message_id != b.message_id


async def test_replies_come_back_after_mark_processed(
    sessions: async_sessionmaker[AsyncSession], identity_id: int
) -> None:
    repo = InboundRepository()
    first = await _record(sessions, identity_id, "msg-7")
    replies = [{"text": "请描述问题", "choices": [{"id": "1", "label": "投诉"}]}, {"text": "第二条"}]
    async with sessions.begin() as session:
        await repo.mark_processed(session, first.message_id, replies, T0 + timedelta(seconds=2))

    again = await _record(sessions, identity_id, "msg-7")
    assert again.new is False
    assert again.message_id == first.message_id
    assert again.replies == replies
    async with sessions() as session:
        row = await session.get(InboundMessage, first.message_id)
    assert row is not None and row.processed_at == T0 + timedelta(seconds=2)


async def test_processed_with_no_replies_gives_an_empty_list(
    sessions: async_sessionmaker[AsyncSession], identity_id: int
) -> None:
    first = await _record(sessions, identity_id, "evt-1")
    async with sessions.begin() as session:
        await InboundRepository().mark_processed(session, first.message_id, [], T0)
    again = await _record(sessions, identity_id, "evt-1")
    assert again.replies == []  # processed, nothing to say: not None ("still being worked on")


async def test_unprocessed(sessions: async_sessionmaker[AsyncSession], identity_id: int) -> None:
    repo = InboundRepository()
    old1 = await _record(sessions, identity_id, "a", received_at=T0)
    old2 = await _record(sessions, identity_id, "b", received_at=T0 + timedelta(seconds=1))
    done = await _record(sessions, identity_id, "c", received_at=T0 + timedelta(seconds=2))
    recent = await _record(sessions, identity_id, "d", received_at=T0 + timedelta(minutes=10))
    old3 = await _record(sessions, identity_id, "e", received_at=T0 + timedelta(seconds=3))
    async with sessions.begin() as session:
        await repo.mark_processed(session, done.message_id, [{"text": "ok"}], T0 + timedelta(seconds=5))

    cutoff = T0 + timedelta(minutes=1)
    async with sessions() as session:
        found = await repo.unprocessed(session, cutoff, limit=10)
        limited = await repo.unprocessed(session, cutoff, limit=2)
        none_yet = await repo.unprocessed(session, T0, limit=10)  # strictly older than the cutoff
    assert [m.id for m in found] == [old1.message_id, old2.message_id, old3.message_id]
    assert [m.id for m in limited] == [old1.message_id, old2.message_id]
    assert none_yet == []
    assert recent.message_id not in {m.id for m in found}
