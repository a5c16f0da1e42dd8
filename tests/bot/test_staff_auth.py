"""/staff sign-in on the real app and database: session ids in the cookie, expiry, rotation, logout."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import SERVICES, build_app
from bot.config import AppConfig
from storage.models import StaffSession
from storage.staff import StaffRepository, hash_token
from tests.app_helpers import Clock, make_config

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
def config(tmp_path: Path, engine: AsyncEngine, database_url: str) -> AppConfig:
    """The shipped config on a migrated database of each kind."""
    return make_config(tmp_path, database_url)


async def _desk(aiohttp_client: ClientFactory, config: AppConfig, clock: Clock) -> tuple[TestClient[Any, Any], str]:
    client = await aiohttp_client(build_app(config, clock=clock, run_workers=False))
    sessions = client.app[SERVICES].sessions
    async with sessions.begin() as session:
        repo = StaffRepository()
        person = await repo.add(session, "张三", "urban", "handler", clock())
        token = await repo.issue_token(session, person.id, clock())
    return client, token


async def _login(client: TestClient[Any, Any], token: str) -> int:
    return (await client.post("/staff/api/login", json={"token": token})).status


async def _signed_in(client: TestClient[Any, Any]) -> bool:
    status = (await client.get("/staff/api/session")).status
    assert status in (200, 401)
    return status == 200


async def test_the_cookie_holds_a_session_id_stored_only_as_a_hash(
    aiohttp_client: ClientFactory, config: AppConfig
) -> None:
    clock = Clock()
    client, token = await _desk(aiohttp_client, config, clock)
    response = await client.post("/staff/api/login", json={"token": token})
    assert response.status == 200
    session_id = response.cookies["wz_staff"].value
    assert session_id != token and len(session_id) >= 40
    assert int(response.cookies["wz_staff"]["max-age"]) == 168 * 3600  # server.staff_session_hours: a week
    async with client.app[SERVICES].sessions() as session:
        (row,) = (await session.execute(select(StaffSession))).scalars()
    assert row.session_hash == hash_token(session_id) and session_id not in row.session_hash
    assert await _signed_in(client)


async def test_a_session_expires_and_signing_in_again_works(aiohttp_client: ClientFactory, config: AppConfig) -> None:
    clock = Clock()
    client, token = await _desk(aiohttp_client, config, clock)
    assert await _login(client, token) == 200
    clock.advance(hours=167, minutes=59)
    assert await _signed_in(client)
    clock.advance(minutes=2)
    assert not await _signed_in(client)  # the cookie alone no longer works, whatever the browser keeps
    assert await _login(client, token) == 200
    assert await _signed_in(client)


async def test_tokens_expire_after_staff_token_days(aiohttp_client: ClientFactory, config: AppConfig) -> None:
    clock = Clock()
    client, token = await _desk(aiohttp_client, config, clock)
    clock.advance(days=89, hours=23)
    assert await _login(client, token) == 200
    clock.advance(hours=2)  # 90 days after the token was issued
    assert not await _signed_in(client)  # a session never outlives its token
    assert await _login(client, token) == 403


async def test_rotating_or_revoking_the_token_signs_its_pages_out(
    aiohttp_client: ClientFactory, config: AppConfig
) -> None:
    clock = Clock()
    client, token = await _desk(aiohttp_client, config, clock)
    assert await _login(client, token) == 200
    sessions = client.app[SERVICES].sessions
    async with sessions.begin() as session:  # what `wenzheng staff token 张三` does
        repo = StaffRepository()
        person = await repo.by_name(session, "张三")
        assert person is not None
        assert await repo.revoke_tokens(session, person.id, clock()) == 1
        new = await repo.issue_token(session, person.id, clock())
    assert not await _signed_in(client)
    assert await _login(client, token) == 403
    assert await _login(client, new) == 200
    assert await _signed_in(client)


async def test_logout_ends_the_session_on_the_server(aiohttp_client: ClientFactory, config: AppConfig) -> None:
    clock = Clock()
    client, token = await _desk(aiohttp_client, config, clock)
    assert await _login(client, token) == 200
    kept = {c.key: c.value for c in client.session.cookie_jar}
    assert (await client.post("/staff/api/logout")).status == 200
    client.session.cookie_jar.update_cookies(kept)  # someone kept a copy of the cookie
    assert not await _signed_in(client)
    async with client.app[SERVICES].sessions() as session:
        (row,) = (await session.execute(select(StaffSession))).scalars()
    assert row.revoked_at == clock()
