"""What the console's tests share: the real app with three staff members and a few tickets filed
through the real workflow (``tickets.console.seeding.Script``), and a signed-in HTTP client."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import build_app
from bot.config import AppConfig, StaffConfig
from bot.services import SERVICES
from storage.database import create_engine
from storage.migrate import upgrade
from storage.models import Ticket
from storage.staff import StaffRepository
from tests.app_helpers import make_config
from tickets.console.seeding import Filing, Script

HANDLER = "张三"  # 城市管理局 (urban), handler
SUPERVISOR = "王主任"  # 城市管理局, supervisor
OTHER = "李四"  # 交通运输局 (transport), handler
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_config(tmp_path: Path, database_url: str | None = None) -> AppConfig:
    config = make_config(tmp_path, database_url)
    return config.model_copy(
        update={
            "staff": [
                StaffConfig(name=HANDLER, department="urban", role="handler"),
                StaffConfig(name=SUPERVISOR, department="urban", role="supervisor"),
                StaffConfig(name=OTHER, department="transport", role="handler"),
            ],
            "outbox": config.outbox.model_copy(update={"poll_seconds": 0.2}),
            "workflow": config.workflow.model_copy(update={"poll_seconds": 0.5}),
        }
    )


@dataclass(frozen=True, slots=True)
class Seeded:
    tokens: dict[str, str]  # staff name -> login token
    numbers: dict[str, str]  # "lamp" (urban), "bus" (transport), "smell" (urban, older) -> number


async def seed(app: web.Application, now: datetime | None = None) -> Seeded:
    """Three tickets and a token for each staff member; run after the app started (migrations)."""
    services = app[SERVICES]
    now = now or datetime.now(UTC)
    script = Script(flow=services.workflow, sessions=services.sessions)
    script.file(
        "smell",
        now - timedelta(hours=30),
        Filing(
            citizen="c-smell", topic_code="urban", district="市南区", details="垃圾站臭味很大，夏天更严重，希望尽快处理"
        ),
    )
    script.file(
        "lamp",
        now - timedelta(hours=3),
        Filing(
            citizen="c-lamp",
            topic_code="urban",
            district="市南区",
            address="香港中路",
            details="香港中路的路灯坏了一个星期了，晚上很危险",
            phone="13912345678",
        ),
    )
    script.file(
        "bus",
        now - timedelta(hours=2),
        Filing(
            citizen="c-bus", topic_code="transport", district="崂山区", details="公交车经常不按时到站，等了四十分钟"
        ),
    )
    numbers = await script.run(now)
    repo = StaffRepository()
    tokens = {}
    async with services.sessions.begin() as session:
        for name in (HANDLER, SUPERVISOR, OTHER):
            person = await repo.by_name(session, name)
            assert person is not None, f"{name} was not seeded from the config"
            tokens[name] = await repo.issue_token(session, person.id, now)
    return Seeded(tokens, numbers)


async def sign_in(client: TestClient[Any, Any], token: str) -> None:
    page = await client.get("/console/login")
    assert page.status == 200
    match = CSRF.search(await page.text())
    assert match is not None, "the login form has no CSRF field"
    answer = await client.post(
        "/console/login", data={"token": token, "csrf": match.group(1), "next": "/console/"}, allow_redirects=False
    )
    assert answer.status == 303, await answer.text()


async def csrf_of(client: TestClient[Any, Any], path: str = "/console/") -> str:
    page = await client.get(path)
    assert page.status == 200, await page.text()
    match = CSRF.search(await page.text())
    assert match is not None
    return match.group(1)


ClientFactory = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def console(
    aiohttp_client: ClientFactory, tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[TestClient[Any, Any], Seeded]]:
    """The real app on SQLite and on PostgreSQL (``database_url``: the suite's throwaway server,
    upgraded first as an operator would: the app migrates only an embedded SQLite itself), seeded."""
    config = console_config(tmp_path, database_url)
    engine = create_engine(database_url)
    try:
        await upgrade(engine, timezone=config.server.timezone)
    finally:
        await engine.dispose()
    app = build_app(config, run_workers=False)
    client = await aiohttp_client(app)
    yield client, await seed(app)


async def stored_ticket(client: TestClient[Any, Any], number: str) -> Ticket:
    async with client.app[SERVICES].sessions() as session:
        found: Ticket = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()
        return found
