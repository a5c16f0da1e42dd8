"""Places through the real web chat and database: a shared pin without a label is stored with its
district and routed by it; a typed place outside the service city is asked about first."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.app import SERVICES, build_app
from bot.config import DepartmentConfig, NameConfig
from storage.models import Ticket
from tests.app_helpers import Clock, make_config

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    base = make_config(tmp_path)
    laoshan = DepartmentConfig(
        code="laoshan_urban",
        name=NameConfig(zh="崂山区城管局", en="Laoshan Urban Bureau"),
        topics=["urban"],
        districts=["崂山区"],
    )
    config = base.model_copy(
        update={
            "dialog": base.dialog.model_copy(update={"service_city": "青岛市"}),
            "departments": [laoshan, *base.departments],
        }
    )
    test_client = await aiohttp_client(build_app(config, clock=Clock(), run_workers=False))
    assert (await test_client.post("/chat/api/session")).status == 200
    yield test_client


async def send(client: TestClient[Any, Any], n: int, **body: Any) -> str:
    response = await client.post("/chat/api/messages", json={"id": f"place-{n:06d}", **body})
    assert response.status == 200, await response.text()
    return "\n".join(r["text"] for r in (await response.json())["replies"])


async def only_ticket(client: TestClient[Any, Any]) -> Ticket:
    async with client.app[SERVICES].sessions() as session:
        ticket: Ticket = (await session.execute(select(Ticket))).scalar_one()
    return ticket


async def test_a_pin_without_a_label_is_filed_with_its_district_and_routed_by_it(client: TestClient[Any, Any]) -> None:
    await send(client, 1, text="路灯坏了一个星期了，晚上很危险")
    said = await send(client, 2, location={"lat": 36.1030, "lon": 120.4700})
    assert "地点已记录：山东省青岛市崂山区" in said
    await send(client, 3, choice={"id": "confirm:submit"})
    ticket = await only_ticket(client)
    assert (ticket.city, ticket.district, ticket.address) == ("青岛市", "崂山区", "")
    assert ticket.lat == pytest.approx(36.1030) and ticket.lon == pytest.approx(120.4700)
    assert ticket.department_code == "laoshan_urban"


async def test_a_typed_place_in_another_city_is_asked_about_then_filed(client: TestClient[Any, Any]) -> None:
    said = await send(client, 1, text="北京市朝阳区三里屯路的路灯坏了一个星期了，晚上很危险")
    assert "这个地址不在本市服务范围，仍要提交吗？" in said and "北京市北京市" not in said
    said = await send(client, 2, choice={"id": "place:keep"})
    assert "请确认" in said
    await send(client, 3, choice={"id": "confirm:submit"})
    ticket = await only_ticket(client)
    assert (ticket.city, ticket.district) == ("北京市", "朝阳区")
