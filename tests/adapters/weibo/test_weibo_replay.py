"""Weibo's signature covers the query, not the body: how a signed query is kept from carrying a
message it did not come with, and how the platform's retry of the same request still gets in.

The nonce is recorded with the stored message, in its transaction and in the database, with the
body's hash: a retry of the same (nonce, body) is the same message (a redelivery), the same nonce
with another body is refused (403), after a restart too. A request that was answered 503 left no
nonce behind, so its retry of the very same signed URL is accepted. The database really hangs here
(another connection holds SQLite's write lock); nothing in the service is patched.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.app import SERVICES, Services, build_app
from storage.models import InboundMessage, OutboxMessage, SeenRequestNonce
from tests.adapters.weibo.fake_api import FakeWeibo
from tests.adapters.weibo.test_weibo import ACCOUNT, CITIZEN, RICH, SECRET, TOKEN, World, payload
from tests.app_helpers import Clock, make_config
from tests.hanging_db import database_hangs

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]


@asynccontextmanager
async def weibo_service(
    aiohttp_client: ClientFactory, tmp_path: Path, clock: Clock, fake: FakeWeibo, api: TestServer
) -> AsyncIterator[World]:
    """One run of the service on the database in ``tmp_path`` (a second one is a restart)."""
    base = make_config(tmp_path)
    weibo = base.channels.weibo.model_copy(
        update={"enabled": True, "app_secret": SECRET, "access_token": TOKEN, "api_base_url": str(api.make_url(""))}
    )
    config = base.model_copy(update={"channels": base.channels.model_copy(update={"weibo": weibo})})
    client = await aiohttp_client(build_app(config, clock=clock, run_workers=False))
    try:
        yield World(client, fake, clock, lambda: aiohttp_client(client.server))
    finally:
        await client.close()  # the app's cleanup: pools, session store and the channel's client


async def count(services: Services, model: Any) -> int:
    async with services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_captured_query_is_refused_with_another_body_after_a_restart(
    aiohttp_client: ClientFactory, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    clock = Clock()
    fake = FakeWeibo(clock, SECRET, TOKEN, account_id=ACCOUNT)
    api = await aiohttp_server(fake.app())
    signed = fake.query(nonce="captured-nonce-1")
    original = payload("text.json", text=RICH, created_at="Sun Nov 22 16:00:01 +0800 2026")
    async with weibo_service(aiohttp_client, tmp_path, clock, fake, api) as before:
        first = await fake.push(before.client, original, query=signed)
        assert first.status == 200 and first.text is not None and first.text.startswith("请确认您的问政内容")

    clock.advance(minutes=2)  # a restart well within the five minutes the signed timestamp stays valid
    async with weibo_service(aiohttp_client, tmp_path, clock, fake, api) as after:
        services = after.client.app[SERVICES]
        forged = payload("text.json", text="撤回我的全部问政", sender_id=1234567890, created_at="x")
        refused = await fake.push(after.client, forged, query=signed)
        assert refused.status == 403
        assert await count(services, InboundMessage) == 1  # the forged message was not stored

        again = await fake.push(after.client, original, query=signed)  # the same request again
        assert again.status == 200 and again.text == first.text  # a redelivery: the stored answer
        await after.deliver()
        assert await count(services, InboundMessage) == 1 and await count(services, OutboxMessage) == 0
        assert fake.sent == []


async def test_the_same_signed_request_is_accepted_after_a_503_and_stored_once(
    aiohttp_client: ClientFactory, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    """The database hangs: past the 4 s budget the push is not stored, so the answer is 503 (never
    an empty 200). The platform (or anyone) retries the very same signed URL and body: accepted,
    one message, its reply sent once."""
    clock = Clock()
    fake = FakeWeibo(clock, SECRET, TOKEN, account_id=ACCOUNT)
    api = await aiohttp_server(fake.app())
    signed = fake.query(nonce="retried-nonce-1")
    push = payload("text.json", text=RICH, created_at="Sun Nov 22 16:00:02 +0800 2026")
    async with weibo_service(aiohttp_client, tmp_path, clock, fake, api) as world:
        services = world.client.app[SERVICES]
        async with database_hangs(services.config.storage.database_url) as hold:
            started = time.perf_counter()
            unstored = await fake.push(world.client, push, query=signed)
            waited = time.perf_counter() - started
            assert unstored.status == 503 and waited < 4.9, waited
            await hold.release()
        for _ in range(100):  # the late task stores it once the lock is gone
            if await count(services, InboundMessage):
                break
            await asyncio.sleep(0.05)
        retried = await fake.push(world.client, push, query=signed)
        assert retried.status == 200  # the same nonce with the same body: the same message
        await world.deliver()
        assert await count(services, InboundMessage) == 1
        assert len([t for t in fake.texts(CITIZEN) if t.startswith("请确认您的问政内容")]) == 1

        other = payload("text.json", text="另一条消息", created_at="Sun Nov 22 16:00:03 +0800 2026")
        assert (await fake.push(world.client, other, query=signed)).status == 403


async def test_expired_nonces_are_pruned(
    aiohttp_client: ClientFactory, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    clock = Clock()
    fake = FakeWeibo(clock, SECRET, TOKEN, account_id=ACCOUNT)
    api = await aiohttp_server(fake.app())
    async with weibo_service(aiohttp_client, tmp_path, clock, fake, api) as world:
        services = world.client.app[SERVICES]
        await world.say("你好")
        assert await count(services, SeenRequestNonce) == 1
        clock.advance(minutes=4)
        assert await services.dispatcher.forget_expired_nonces() == 0  # its timestamp is still valid
        clock.advance(minutes=2)
        assert await services.dispatcher.forget_expired_nonces() == 1
        assert await count(services, SeenRequestNonce) == 0
