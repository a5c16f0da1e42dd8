"""Open311 GeoReport v2 on the real app, spoken to by a real client from PyPI (``georeport``,
which uses ``requests``: run in a thread against the test server on loopback) and, for POST (that
client has none), by form-encoded requests built like the spec's example. Every XML document is
checked against an XSD of the spec's documents."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import xmlschema
from georeport import GeoReport
from sqlalchemy import select

from bot.open311.filing import CHANNEL
from storage.models import AuditEntry, Identity, OutboxMessage, Ticket, TicketEvent, Timer
from storage.public_results import ApiKeyRepository
from tests.bot.public_world import SECRETS, answer, file_inquiry
from tests.tickets.test_workflow import World
from tests.tickets.test_workflow import world as world  # the real app with staff

SCHEMA = xmlschema.XMLSchema(Path(__file__).with_name("georeport_v2.xsd"))
KEY = "test-key-0123456789abcdefghijklmnop"
ROOT = "/open311/v2"
POST_FORM = {  # the spec's example POST, with our service codes and a place in Qingdao
    "api_key": KEY,
    "service_code": "urban",
    "lat": "36.0662",
    "long": "120.3826",
    "address_string": "青岛市市南区香港中路",
    "email": "resident@example.com",
    "device_id": "tt222111",
    "account_id": "",
    "first_name": "小明",
    "last_name": "王",
    "phone": "13812345678",
    "description": "我叫王小明，香港中路8号楼门口的路灯不亮，电话13812345678",
    "media_url": "https://example.com/photo.jpg",
}


def valid_xml(body: bytes) -> ET.Element:
    root = ET.fromstring(body)  # well-formed
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>") or body.startswith(b'<?xml version="1.0"')
    SCHEMA.validate(body.decode())
    return root


async def _with_key(world: World) -> None:
    async with world.services.sessions.begin() as session:
        await ApiKeyRepository().add(session, "partner-app", KEY, world.clock())


async def _post(world: World, form: dict[str, str], fmt: str = "xml") -> tuple[int, bytes]:
    client = await world.factory(world.server)
    response = await client.post(f"{ROOT}/requests.{fmt}", data=form)
    return response.status, await response.read()


def _client(world: World, fmt: str) -> GeoReport:
    return GeoReport(str(world.server.make_url(ROOT)), output_format=fmt)


async def test_discovery_and_services_through_a_real_client(world: World) -> None:
    for fmt in ("xml", "json"):
        services = await asyncio.to_thread(_client(world, fmt).get_service_list)
        codes = [s["service_code"] for s in services]
        assert codes[:3] == ["transport", "urban", "environment"] or "urban" in codes
        urban = next(s for s in services if s["service_code"] == "urban")
        assert urban["service_name"] == "城市管理" and urban["group"] == "城市管理局"
        assert urban["type"] == "realtime" and str(urban["metadata"]).lower() == "true"
        definition = await asyncio.to_thread(_client(world, fmt).get_service_definition, "urban")
        assert definition["service_code"] == "urban"
    client = await world.factory(world.server)
    for path in ("/discovery.xml", "/services.xml", "/services/urban.xml"):
        response = await client.get(ROOT + path)
        assert response.status == 200 and response.content_type == "text/xml"
        valid_xml(await response.read())
    discovery = await (await client.get(ROOT + "/discovery.json")).json()
    assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    english = await (await client.get(ROOT + "/services.json", headers={"Accept-Language": "en"})).json()
    assert any(s["service_name"] == "Urban management" and s["group"] == "Urban Management Bureau" for s in english)


async def test_post_files_through_the_chat_workflow(world: World) -> None:
    await _with_key(world)
    status, body = await _post(world, {**POST_FORM, "attribute[publish]": "true"})
    assert status == 200, body
    request = valid_xml(body).find("request")
    assert request is not None
    number = request.findtext("service_request_id") or ""
    assert number.startswith("WZ") and "城市管理局" in (request.findtext("service_notice") or "")
    async with world.services.sessions() as session:
        ticket = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()
        assert ticket.department_code == "urban" and ticket.status == "accepted"  # routed like a chat filing
        assert ticket.district == "市南区" and ticket.public_consent is True and ticket.phone == "13812345678"
        assert ticket.answer_due_at > ticket.respond_due_at > ticket.created_at
        kinds = [
            e.kind
            for e in (await session.execute(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))).scalars()
        ]
        assert kinds[:2] == ["submitted", "route"]
        assert (await session.execute(select(Timer).where(Timer.ticket_id == ticket.id))).scalars().first() is not None
        cards = (await session.execute(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))).scalars()
        assert all(c.channel != CHANNEL for c in cards)  # the staff hear of it; the client polls
        identity = await session.get(Identity, ticket.identity_id)
        assert identity is not None and identity.channel == CHANNEL and identity.reachable is False


async def test_requests_show_text_only_when_consented(world: World) -> None:
    await _with_key(world)
    _, public_body = await _post(world, {**POST_FORM, "attribute[publish]": "true"})
    _, private_body = await _post(
        world, {**POST_FORM, "description": "李建国反映香港中路12号的井盖丢了，电话13600002222"}
    )
    public_id = ET.fromstring(public_body).findtext("request/service_request_id")
    private_id = ET.fromstring(private_body).findtext("request/service_request_id")
    client = await world.factory(world.server)
    response = await client.get(f"{ROOT}/requests.xml", params={"service_request_id": f"{public_id},{private_id}"})
    body = await response.read()
    requests = {r.findtext("service_request_id"): r for r in valid_xml(body).findall("request")}
    public, private = requests[public_id], requests[private_id]
    assert "路灯不亮" in (public.findtext("description") or "")
    assert private.find("description") is None and private.find("lat") is None
    assert private.findtext("address") == "市南区"
    assert public.findtext("lat") == "36.066" and public.findtext("media_url") == "https://example.com/photo.jpg"
    text = body.decode()
    for secret in (*SECRETS, "李建国", "13600002222", "12号", "36.0662"):
        assert secret not in text, secret
    assert public.findtext("status") == "open" and public.findtext("agency_responsible") == "城市管理局"
    assert public.findtext("expected_datetime", "").endswith("+08:00")


async def test_get_requests_through_a_real_client_with_filters(world: World) -> None:
    await _with_key(world)
    _, body = await _post(world, {**POST_FORM, "attribute[publish]": "true"})
    number = ET.fromstring(body).findtext("request/service_request_id")
    assert number is not None
    zhang = await world.staff("张三")
    await answer(zhang, number, "王小明您好，路灯已修复。")
    citizen = await world.citizen()
    other = await file_inquiry(citizen, "反映：青岛市市北区辽宁路的公交站牌被撞坏了", publish=False)
    for fmt in ("json", "xml"):
        geo = _client(world, fmt)
        one = await asyncio.to_thread(geo.get_service_request, number)
        assert one["service_request_id"] == number and one["status"] == "closed"
        assert "路灯已修复" in one["status_notes"] and "王小明" not in one["status_notes"]
        closed = await asyncio.to_thread(geo.get_service_requests, status="closed")
        closed_ids = (
            [closed["service_request_id"]] if isinstance(closed, dict) else [r["service_request_id"] for r in closed]
        )
        assert closed_ids == [number]
        opened = await asyncio.to_thread(geo.get_service_requests, status="open", service_code="transport")
        open_ids = (
            [opened["service_request_id"]] if isinstance(opened, dict) else [r["service_request_id"] for r in opened]
        )
        assert open_ids == [other]
    window = {"start_date": "2026-11-01T00:00:00Z", "end_date": "2026-11-21T00:00:00+08:00"}
    assert await asyncio.to_thread(_client(world, "json").get_service_requests, **window) == []


@pytest.mark.parametrize(
    ("method", "path", "form", "status"),
    [
        ("post", "/requests.xml", {**POST_FORM, "api_key": ""}, 403),
        ("post", "/requests.json", {**POST_FORM, "api_key": "wrong-key"}, 403),
        ("post", "/requests.xml", {**POST_FORM, "service_code": ""}, 400),
        ("post", "/requests.xml", {**POST_FORM, "service_code": "potholes"}, 400),
        ("post", "/requests.xml", {**POST_FORM, "lat": "", "long": "", "address_string": ""}, 400),
        ("post", "/requests.json", {**POST_FORM, "lat": "north"}, 400),
        ("post", "/requests.xml", {**POST_FORM, "description": ""}, 400),
        ("post", "/requests.xml", {**POST_FORM, "attribute[publish]": "maybe"}, 400),
        ("get", "/services/potholes.xml", None, 404),
        ("get", "/requests/WZ20200101-0001.json", None, 404),
        ("get", "/requests.xml?start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z", None, 400),
        ("get", "/requests.xml?start_date=yesterday", None, 400),
        ("get", "/requests.json?status=pending", None, 400),
        ("get", "/requests.yaml", None, 404),
        ("get", "/nothing-here.xml", None, 404),
    ],
)
async def test_errors_in_the_spec_format_with_the_right_codes(
    world: World, method: str, path: str, form: dict[str, str] | None, status: int
) -> None:
    await _with_key(world)
    client = await world.factory(world.server)
    response = await getattr(client, method)(ROOT + path, data=form)
    body = await response.read()
    assert response.status == status, body
    if path.split("?")[0].endswith(".json"):
        errors: list[dict[str, Any]] = json.loads(body)
        assert errors[0]["code"] == status and errors[0]["description"]
    else:
        root = valid_xml(body)
        assert root.tag == "errors" and root.findtext("error/code") == str(status)
    async with world.services.sessions() as session:
        assert (await session.execute(select(Ticket))).first() is None  # nothing filed by a refused request


async def test_a_revoked_key_is_refused_and_audit_is_untouched(world: World) -> None:
    await _with_key(world)
    async with world.services.sessions.begin() as session:
        assert await ApiKeyRepository().revoke(session, "partner-app", world.clock())
    status, body = await _post(world, POST_FORM)
    assert status == 403, body
    async with world.services.sessions() as session:
        assert (await session.execute(select(AuditEntry))).first() is None
