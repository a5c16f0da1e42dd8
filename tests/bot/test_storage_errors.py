"""A message the database refuses is answered once, politely; an outage is still a 503 (issue 12).

Before, every storage exception became ``TemporarilyUnavailable``: a value PostgreSQL rejects (a
key longer than its column, a non-finite number in JSON) was answered 503 and resent by the platform
forever, counted as an outage. The errors here are the databases' own, provoked for real.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.base import ConversationRef, Inbound, Location, MessageKind
from bot.app import Services
from bot.storage_errors import is_poison
from dialogs.texts import text as say
from storage.models import InboundMessage, OutboxMessage
from tests.app_helpers import Clock
from tests.bot.test_dispatcher import message, start, stop

REF = ConversationRef("webchat", "web", "citizen-poison")


@pytest.fixture
async def svc(tmp_path: Path, database_url: str, engine: AsyncEngine) -> AsyncIterator[Services]:
    services = await start(tmp_path, database_url, Clock())
    yield services
    await stop(services)


def poisons() -> list[Inbound]:
    """Inbound values no adapter lets through today, but the database must not turn into 503s."""
    long_key = message("路灯坏了", key="k" * 300, ref=REF)  # message_key is VARCHAR(255)
    pin = Inbound(
        channel="webchat",
        conversation=REF,
        message_key="pin-inf",
        kind=MessageKind.LOCATION,
        received_at=Clock()(),
        location=Location(float("inf"), 120.0, ""),  # JSON has no Infinity: PostgreSQL refuses it
    )
    return [long_key, pin]


async def count(services: Services, model: object) -> int:
    async with services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())  # type: ignore[arg-type]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_value_postgresql_refuses_gets_a_polite_reply_not_an_endless_503(svc: Services) -> None:
    for poison in poisons():
        handled = await svc.dispatcher.handle(poison)
        assert [r.text for r in handled.replies] == [say("unreadable_message", "zh")]
    rejected = svc.metrics.messages_in.labels("webchat", "rejected")._value.get()
    assert rejected == 2
    assert await count(svc, InboundMessage) == 0
    # Not inline (Telegram): the apology goes through the outbox, the platform gets its 200.
    queued = await svc.dispatcher.handle(poisons()[0], inline=False)
    assert queued.replies == () and not queued.duplicate
    assert await count(svc, OutboxMessage) == 1
    # The conversation goes on: the next ordinary message is stored and answered.
    ok = await svc.dispatcher.handle(message("你好", ref=REF))
    assert ok.replies and await count(svc, InboundMessage) == 1


async def test_poison_and_outage_are_told_apart_on_real_errors(tmp_path: Path, database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (v VARCHAR(4))"))
        for bad in ("a\ud800", "a\x00", "x" * 10):
            try:
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": bad})
            except Exception as exc:  # whatever the driver raises is what is classified
                assert is_poison(exc), (bad, repr(exc))
            else:
                assert database_url.startswith("sqlite") and bad != "a\ud800", "the database took it"
    finally:
        await engine.dispose()
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = database_url.replace("sqlite+aiosqlite:///", f"sqlite+aiosqlite:///{tmp_path}/missing/dir/")
    if database_url.startswith("postgresql"):
        down = f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none"
    gone = create_async_engine(down)
    try:
        with pytest.raises(Exception) as caught:
            async with gone.begin() as conn:
                await conn.execute(text("SELECT 1"))
        assert not is_poison(caught.value), repr(caught.value)
    finally:
        await gone.dispose()
