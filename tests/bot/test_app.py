"""The composed service: health, metrics, start-up rules for each database."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app, build_services, prepare_database
from bot.config import AppConfig, MetricsAccessConfig
from bot.routes import metrics_allowed
from storage.database import create_engine
from tests.app_helpers import Clock, make_config
from tests.hanging_db import database_hangs

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


# --- who may read /metrics (issue #12 item 7) --------------------------------------------------------


def _outward_address() -> str | None:
    """An address of this machine other than loopback (the route's source address), if any."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))  # UDP: nothing is sent
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


async def _metrics_status(config: AppConfig, host: str, headers: dict[str, str] | None = None) -> int:
    runner = web.AppRunner(build_app(config, clock=Clock(), run_workers=False))
    await runner.setup()
    try:
        site = web.TCPSite(runner, "0.0.0.0", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with ClientSession() as http, http.get(f"http://{host}:{port}/metrics", headers=headers) as response:
            return response.status
    finally:
        await runner.cleanup()


def _with_metrics(tmp_path: Path, **access: str) -> AppConfig:
    config = make_config(tmp_path)
    server = config.server.model_copy(update={"metrics": MetricsAccessConfig(**access)})
    return config.model_copy(update={"server": server})


async def test_metrics_are_for_loopback_callers_by_default(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    assert config.server.metrics.allow == "loopback"
    assert await _metrics_status(config, "127.0.0.1") == 200
    outward = _outward_address()
    if outward is None:
        pytest.skip("this machine has no address besides loopback")
    assert await _metrics_status(config, outward) == 403


async def test_metrics_with_a_token_want_the_bearer_token_from_anywhere(tmp_path: Path) -> None:
    secret = "m" * 32
    config = _with_metrics(tmp_path, allow="token", token=secret)
    assert await _metrics_status(config, "127.0.0.1") == 403  # loopback alone is not enough here
    assert await _metrics_status(config, "127.0.0.1", {"Authorization": "Bearer " + "x" * 32}) == 403
    assert await _metrics_status(config, "127.0.0.1", {"Authorization": f"Bearer {secret}"}) == 200
    outward = _outward_address()
    if outward is not None:
        assert await _metrics_status(config, outward, {"Authorization": f"Bearer {secret}"}) == 200


async def test_public_metrics_answer_anyone(tmp_path: Path) -> None:
    config = _with_metrics(tmp_path, allow="public")
    outward = _outward_address() or "127.0.0.1"
    assert await _metrics_status(config, outward) == 200


def test_metrics_access_rules() -> None:
    loopback = MetricsAccessConfig()
    assert metrics_allowed(loopback, "127.0.0.1", "") and metrics_allowed(loopback, "::1", "")
    assert not metrics_allowed(loopback, "192.0.2.2", "") and not metrics_allowed(loopback, None, "")
    assert not metrics_allowed(loopback, "not-an-address", "")
    token = MetricsAccessConfig(allow="token", token="t" * 20)
    assert metrics_allowed(token, "192.0.2.2", "Bearer " + "t" * 20)
    assert not metrics_allowed(token, "127.0.0.1", "Basic " + "t" * 20)
    with pytest.raises(ValueError, match="at least 16"):
        MetricsAccessConfig(allow="token", token="short")


@pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)
async def test_healthz_is_503_within_its_timeout_while_the_database_hangs(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    """Another session holds what a message's first transaction needs (SQLite's write lock, or an
    ACCESS EXCLUSIVE lock on the message log): health says so within its own two seconds, and
    checks made meanwhile wait on the same probe instead of piling up on the stuck database."""
    client = await aiohttp_client(build_app(make_config(tmp_path, database_url), clock=Clock(), run_workers=False))
    assert (await client.get("/healthz")).status == 200
    async with database_hangs(database_url) as hold:
        for _ in range(2):
            started = time.perf_counter()
            response = await client.get("/healthz")
            waited = time.perf_counter() - started
            assert response.status == 503 and 1.5 < waited < 3.0, waited
            body = await response.json()
            assert body["database"].startswith("error") and body["sessions"] == "ok"
        await hold.release()
    for _ in range(50):  # the stuck probe finishes once the lock is gone; the next check is fresh
        response = await client.get("/healthz")
        if response.status == 200:
            break
        await asyncio.sleep(0.1)
    assert response.status == 200
