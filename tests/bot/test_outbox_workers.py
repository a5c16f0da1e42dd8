"""Two workers draining one outbox on PostgreSQL: every push sent once, each chat in order, and
(with Redis) Telegram's limits kept by the two together.

Each worker is a whole service built by ``build_app`` from the same config, with its own
connection pool, as two ``wenzheng serve`` workers are; they share the database, Redis, the fake
Bot API and the injected clock.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import ConversationRef, Outbound
from bot.app import build_app
from bot.services import SERVICES, Services
from storage.models import OutboxMessage
from tests.adapters.telegram.fake_api import FakeTelegramAPI
from tests.adapters.telegram.test_telegram import BOT_ID, GROUP, TOKEN, telegram_config
from tests.app_helpers import Clock

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.redis,
    pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True),
]

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]


async def two_workers(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    clock: Clock,
    api_url: str,
    client_factory: ClientFactory,
) -> list[Services]:
    config = telegram_config(tmp_path, api_url)
    config = config.model_copy(
        update={
            "storage": config.storage.model_copy(update={"database_url": database_url, "redis_url": redis_url}),
            "outbox": config.outbox.model_copy(update={"batch_size": 20, "concurrency": 4}),
        }
    )
    services: list[Services] = []
    for _ in range(2):
        app: web.Application = build_app(config, clock=clock, run_workers=False)
        await client_factory(app)  # runs the start-up: schema check, staff seeded
        services.append(app[SERVICES])
    return services


async def queue(services: Services, clock: Clock, chats: list[str], per_chat: int) -> list[int]:
    ids = []
    async with services.sessions.begin() as session:
        for n, chat in itertools.product(range(per_chat), chats):
            ref = ConversationRef("telegram", BOT_ID if not chat.startswith("-") else "staff", chat)
            ids.append(await services.outbox.enqueue(session, ref, Outbound(f"{chat}#{n}"), clock()))
    return ids


async def drain_together(services: list[Services], clock: Clock, limit: timedelta) -> None:
    """Both workers claim and send at the same time; the clock moves to the next due row."""
    end = clock.now + limit
    while clock.now <= end:
        await asyncio.gather(*(s.worker.drain() for s in services))
        async with services[0].sessions() as session:
            stmt = select(func.min(OutboxMessage.next_attempt_at)).where(
                OutboxMessage.status == "pending", OutboxMessage.next_attempt_at > clock.now
            )
            due = (await session.execute(stmt)).scalar_one_or_none()
        if due is None:
            return
        clock.now = due if due.tzinfo else due.replace(tzinfo=UTC)
    raise AssertionError("the outbox never settled")


@pytest.fixture
async def engine_migrated(engine: AsyncEngine) -> AsyncEngine:
    return engine  # the conftest's engine fixture migrates the database to head


async def test_two_workers_send_every_push_once_in_order_and_keep_telegrams_limits(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    engine_migrated: AsyncEngine,
    aiohttp_client: ClientFactory,
    aiohttp_server: ServerFactory,
) -> None:
    clock = Clock(datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    fake = FakeTelegramAPI(clock, TOKEN)
    api = await aiohttp_server(fake.app())
    workers = await two_workers(tmp_path, database_url, redis_url, clock, str(api.make_url("")), aiohttp_client)
    chats = [str(5550000 + n) for n in range(40)]
    ids = await queue(workers[0], clock, [*chats, GROUP], per_chat=3)
    ids += await queue(workers[0], clock, [GROUP], per_chat=22)  # a busy staff group: past 20 a minute

    await drain_together(workers, clock, limit=timedelta(minutes=10))

    async with workers[0].sessions() as session:
        rows = (await session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).scalars().all()
    assert Counter(row.status for row in rows) == {"sent": len(ids)}
    expected = Counter(f"{c}#{n}" for c in chats for n in range(3)) + Counter(f"{GROUP}#{n}" for n in range(3))
    expected += Counter(f"{GROUP}#{n}" for n in range(22))
    assert Counter(call.text for call in fake.sent()) == expected, "every push sent exactly once"
    assert len(fake.attempts()) == len(ids), "no attempt refused or repeated"
    for chat in chats:
        assert fake.texts(chat) == [f"{chat}#{n}" for n in range(3)], "each chat in the order queued"
    assert fake.violations == [], "Telegram would have answered 429"
    by_worker = Counter(row.leased_by for row in rows)
    assert len(by_worker) == 2, f"both workers sent: {by_worker}"
