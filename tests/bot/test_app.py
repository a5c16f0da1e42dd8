"""The composed service: health, metrics, start-up rules for each database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app, build_services, prepare_database
from storage.database import create_engine
from tests.app_helpers import Clock, make_config

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


async def test_healthz_reports_database_and_sessions(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(build_app(make_config(tmp_path), clock=Clock(), run_workers=False))
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok", "sessions": "ok"}


async def test_healthz_is_503_when_redis_is_down(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    config = make_config(tmp_path, redis_url="redis://127.0.0.1:9/0")
    client = await aiohttp_client(build_app(config, clock=Clock(), run_workers=False))
    response = await client.get("/healthz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unavailable" and body["sessions"].startswith("error")


async def test_metrics_count_messages_and_outbox(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(build_app(make_config(tmp_path), clock=Clock()))
    await client.post("/chat/api/session")
    await client.post("/chat/api/messages", json={"id": "metrics-0001", "text": "你好"})
    await client.post("/chat/api/messages", json={"id": "metrics-0001", "text": "你好"})
    response = await client.get("/metrics")
    assert response.status == 200
    body = await response.text()
    assert 'wenzheng_messages_in_total{channel="webchat",outcome="processed"} 1.0' in body
    assert 'wenzheng_messages_in_total{channel="webchat",outcome="duplicate"} 1.0' in body
    assert 'wenzheng_dialog_seconds_count{channel="webchat"} 2.0' in body
    assert "wenzheng_outbox_depth" in body


async def test_root_redirects_to_the_chat(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(build_app(make_config(tmp_path), clock=Clock(), run_workers=False))
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/chat"


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_server_database_behind_the_code_refuses_to_start(tmp_path: Path, database_url: str) -> None:
    services = build_services(make_config(tmp_path, database_url), Clock())
    try:
        with pytest.raises(RuntimeError, match="wenzheng db upgrade"):
            await prepare_database(services)
    finally:
        await services.dispose_databases()


async def test_embedded_sqlite_is_migrated_at_start(tmp_path: Path) -> None:
    services = build_services(make_config(tmp_path), Clock())
    try:
        await prepare_database(services)
        engine: AsyncEngine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/wenzheng.db")
        async with engine.connect() as conn:
            from sqlalchemy import text

            tables = (await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))).scalars().all()
        await engine.dispose()
        assert {"tickets", "inbound_messages", "outbox", "ticket_events", "alembic_version"} <= set(tables)
    finally:
        await services.dispose_databases()
