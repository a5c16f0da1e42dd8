"""Issue #12 items 6 and 8: what a restart of the embedded default (SQLite, no Redis) keeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from adapters.base import ConversationRef, Outbound
from bot.app import SERVICES, build_app
from storage.models import OutboxMessage, Ticket, WebchatMailbox
from storage.outbox import OutboxRepository
from storage.sqlite_sessions import SqliteSessionStore
from tests.app_helpers import Clock, make_config

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
RICH = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"


async def _say(client: TestClient[Any, Any], msg_id: str, **body: Any) -> str:
    response = await client.post("/chat/api/messages", json={"id": msg_id, **body})
    assert response.status == 200, await response.text()
    return "\n".join(r["text"] for r in (await response.json())["replies"])


async def test_a_half_filled_form_resumes_after_a_restart(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    config = make_config(tmp_path)
    assert config.storage.redis_url is None  # the embedded default
    clock = Clock()
    first = await aiohttp_client(build_app(config, clock=clock, run_workers=False))
    assert isinstance(first.app[SERVICES].store, SqliteSessionStore)
    assert (await first.post("/chat/api/session")).status == 200
    cookies = {c.key: c.value for c in first.session.cookie_jar}
    assert "请确认" in await _say(first, "msg-00000001", text=RICH)  # the summary waits for 提交
    await first.close()  # the process ends; the draft must not end with it

    second = await aiohttp_client(build_app(config, clock=clock, run_workers=False))  # same database
    second.session.cookie_jar.update_cookies(cookies)
    filed = await _say(second, "msg-00000002", choice={"id": "confirm:submit"})
    assert "WZ20261122-0001" in filed
    async with second.app[SERVICES].sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert ticket.details == RICH and ticket.district == "市南区"


async def test_a_push_left_mid_send_by_a_killed_process_goes_out_right_after_the_restart(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """Issue #12 item 8 on the composed service: SQLite is one process, so the restarted worker
    takes over its dead predecessor's leased rows at once (the clock stands still here: the old
    two-minute lease never runs out)."""
    config = make_config(tmp_path)
    clock = Clock()
    first = await aiohttp_client(build_app(config, clock=clock, run_workers=False))
    services = first.app[SERVICES]
    ref = ConversationRef("webchat", "web", "chat-killed")
    async with services.sessions.begin() as session:
        outbox_id = await services.outbox.enqueue(session, ref, Outbound("已受理"), clock())
    await services.worker.register()
    async with services.sessions.begin() as session:  # claimed, sent, then killed before recording
        await OutboxRepository().claim_due(session, clock(), 10, worker_id=services.worker.worker_id)
    await first.close()  # no clean retire: the worker loop never ran, as after a kill

    second = await aiohttp_client(build_app(config, clock=clock, run_workers=True))
    async with asyncio.timeout(10):
        while True:
            async with second.app[SERVICES].sessions() as session:
                row = await session.get(OutboxMessage, outbox_id)
                assert row is not None
                if row.status == "sent":
                    break
            await asyncio.sleep(0.05)
    async with second.app[SERVICES].sessions() as session:
        shown = (await session.execute(select(WebchatMailbox).where(WebchatMailbox.chat_id == "chat-killed"))).all()
    assert len(shown) == 1
