"""The web chat end to end, through the real aiohttp app on a real database."""

from __future__ import annotations

import asyncio
import json
import re
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from adapters.base import ConversationRef, Outbound, Purpose
from adapters.web.webchat import WebchatChannel, image_extension
from bot.app import SERVICES, Services, build_app
from storage.models import InboundMessage, Ticket, TicketEvent, WebchatMailbox
from tests.app_helpers import Clock, make_config

RICH = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    app = build_app(make_config(tmp_path), clock=Clock(), run_workers=False)
    test_client = await aiohttp_client(app)
    response = await test_client.post("/chat/api/session")
    assert response.status == 200
    yield test_client


def services(client: TestClient[Any, Any]) -> Services:
    return client.app[SERVICES]


class Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"msg-{self.n:08d}"


new_id = Ids()


async def say(client: TestClient[Any, Any], text: str, msg_id: str | None = None) -> dict[str, Any]:
    response = await client.post("/chat/api/messages", json={"id": msg_id or new_id(), "text": text})
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def tap(client: TestClient[Any, Any], choice_id: str, msg_id: str | None = None) -> dict[str, Any]:
    response = await client.post("/chat/api/messages", json={"id": msg_id or new_id(), "choice": {"id": choice_id}})
    assert response.status == 200, await response.text()
    return dict(await response.json())


def texts(body: dict[str, Any]) -> str:
    return "\n".join(r["text"] for r in body["replies"])


async def count(client: TestClient[Any, Any], model: Any) -> int:
    async with services(client).sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


# --- the page -------------------------------------------------------------------------------------


async def test_chat_page_is_served_with_a_strict_content_security_policy(client: TestClient[Any, Any]) -> None:
    response = await client.get("/chat")
    assert response.status == 200
    assert "text/html" in response.headers["Content-Type"]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<html" in (await response.text()).lower()


@pytest.mark.parametrize("name", ["../config.yaml", "x.py", "chat.html"])
async def test_static_route_serves_only_assets(client: TestClient[Any, Any], name: str) -> None:
    response = await client.get(f"/chat/static/{name}")
    assert response.status == 404


async def test_session_cookie_is_http_only_and_kept(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(build_app(make_config(tmp_path), clock=Clock(), run_workers=False))
    first = await client.post("/chat/api/session")
    cookie = first.cookies["wz_chat"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/chat"
    second = await client.post("/chat/api/session")
    assert "wz_chat" not in second.cookies  # the identity is stable across reloads


# --- filing -----------------------------------------------------------------------------------------


async def test_citizen_files_an_inquiry_and_the_ticket_is_stored_with_its_history(
    client: TestClient[Any, Any],
) -> None:
    summary = await say(client, RICH)
    assert "请确认" in texts(summary)
    assert [c["id"] for c in summary["replies"][-1]["choices"]] == [
        "confirm:submit",
        "confirm:edit",
        "confirm:cancel",
        "confirm:publish",
    ]
    filed = await tap(client, "confirm:submit")
    number = re.search(r"WZ20261122-\d{4}", texts(filed))
    assert number is not None
    async with services(client).sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
        events = (await session.execute(select(TicketEvent))).scalars().all()
    assert ticket.number == number.group(0) == "WZ20261122-0001"
    assert ticket.details == RICH and ticket.district == "市南区" and ticket.topic_code == "urban"
    assert ticket.status == "accepted" and ticket.department_code == "urban"  # routed at once (首问负责)
    assert [e.kind for e in events] == ["submitted", "route"]
    assert await count(client, InboundMessage) == 2


async def test_redelivered_message_gets_the_same_answer_and_runs_nothing_again(client: TestClient[Any, Any]) -> None:
    first = await say(client, RICH, msg_id="same-id-0001")
    again = await say(client, RICH, msg_id="same-id-0001")
    assert again["replies"] == first["replies"]
    assert again["duplicate"] is True and first["duplicate"] is False
    assert await count(client, InboundMessage) == 1
    submit = await tap(client, "confirm:submit", msg_id="submit-0001")
    resubmit = await tap(client, "confirm:submit", msg_id="submit-0001")
    assert resubmit["replies"] == submit["replies"]
    assert await count(client, Ticket) == 1


async def test_double_tap_on_submit_files_one_ticket(client: TestClient[Any, Any]) -> None:
    await say(client, RICH)
    first, second = await asyncio.gather(tap(client, "confirm:submit"), tap(client, "confirm:submit"))
    assert await count(client, Ticket) == 1
    both = texts(first) + texts(second)
    assert both.count("WZ20261122-0001") == 2  # one filed it, the other was told it was already filed
    assert "已经提交过了" in both


async def test_my_inquiries_lists_only_my_own(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    app = build_app(make_config(tmp_path), clock=Clock(), run_workers=False)
    alice = await aiohttp_client(app)
    await alice.post("/chat/api/session")
    await say(alice, RICH)
    await tap(alice, "confirm:submit")
    bob = await aiohttp_client(alice.server)  # same server, a different browser
    await bob.post("/chat/api/session")
    assert "还没有提交过问政" in texts(await say(bob, "我的"))
    assert "没有找到编号为WZ20261122-0001" in texts(await say(bob, "WZ20261122-0001"))
    assert "WZ20261122-0001" in texts(await say(alice, "我的"))


# --- bad input --------------------------------------------------------------------------------------


async def test_message_without_session_is_refused(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await aiohttp_client(build_app(make_config(tmp_path), clock=Clock(), run_workers=False))
    response = await client.post("/chat/api/messages", json={"id": new_id(), "text": "你好"})
    assert response.status == 401
    assert (await response.json())["error"] == "no_session"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[]", "application/json", 400),
        (b'{"text": "hi"}', "application/json", 400),
        (b'{"id": "short", "text": "hi"}', "application/json", 400),
        (b'{"id": "abcdefgh12", "text": 5}', "application/json", 400),
        (b'{"id": "abcdefgh12", "location": {"lat": 123, "lon": 1}}', "application/json", 400),
        (b'{"id": "abcdefgh12", "location": {"lat": "x", "lon": 1}}', "application/json", 400),
        (b'{"id": "abcdefgh12", "choice": "submit"}', "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (b"text=hi", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_malformed_messages_get_a_clear_error(
    client: TestClient[Any, Any], body: bytes, content_type: str, status: int
) -> None:
    response = await client.post("/chat/api/messages", data=body, headers={"Content-Type": content_type})
    assert response.status == status
    payload = await response.json()
    assert payload["message"]["zh"] and payload["message"]["en"]
    assert await count(client, InboundMessage) == 0


async def test_oversized_body_is_413(client: TestClient[Any, Any]) -> None:
    body = json.dumps({"id": new_id(), "text": "x" * 300_000})
    response = await client.post("/chat/api/messages", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 413


async def test_twenty_thousand_characters_get_a_polite_limit_notice_and_are_stored(
    client: TestClient[Any, Any],
) -> None:
    long_text = "路灯坏了很久了" * 2857 + "好"
    assert len(long_text) == 20_000
    body = await say(client, long_text)
    assert "20000字" in texts(body) and "已保存" in texts(body)
    async with services(client).sessions() as session:
        stored = (await session.execute(select(InboundMessage.text))).scalar_one()
    assert stored == long_text


async def test_emoji_rtl_and_zero_width_survive_storage(client: TestClient[Any, Any]) -> None:
    details = "市南区香港中路路灯坏了😡\u200b\u202eمرحبا"
    await say(client, details)
    await tap(client, "confirm:submit")
    async with services(client).sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert ticket.details == details


async def test_location_pin_is_kept_structured(client: TestClient[Any, Any]) -> None:
    # Headed 投诉: the type is the citizen's own, so the form asks only the topic, then the place.
    await say(client, "投诉：这里的情况已经持续很久了，一直没有人来处理")
    await say(client, "交通运输")
    response = await client.post(
        "/chat/api/messages",
        json={"id": new_id(), "location": {"lat": 36.0671, "lon": 120.3826, "label": "山东省青岛市市南区香港中路8号"}},
    )
    assert "地点已记录" in texts(await response.json())
    await tap(client, "confirm:submit")
    async with services(client).sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert (ticket.lat, ticket.lon, ticket.district) == (pytest.approx(36.0671), pytest.approx(120.3826), "市南区")


async def test_photo_upload_is_attached(client: TestClient[Any, Any], tmp_path: Path) -> None:
    await say(client, RICH)
    form = FormData()
    form.add_field("id", new_id())
    form.add_field("file", png_bytes(), filename="a.png", content_type="image/png")
    response = await client.post("/chat/api/upload", data=form)
    assert response.status == 200
    assert "照片已收到（共1张）" in texts(await response.json())
    await tap(client, "confirm:submit")
    async with services(client).sessions() as session:
        ticket = (await session.execute(select(Ticket))).scalar_one()
    assert len(ticket.media) == 1 and ticket.media[0]["ref"].startswith("webchat:")
    assert (tmp_path / "media" / ticket.media[0]["ref"].removeprefix("webchat:")).read_bytes() == png_bytes()


async def test_unsupported_upload_gets_a_polite_reply_and_is_not_kept(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    form = FormData()
    form.add_field("id", new_id())
    form.add_field("file", b"%PDF-1.7 not a photo", filename="a.pdf", content_type="image/png")
    response = await client.post("/chat/api/upload", data=form)
    assert response.status == 200
    assert "暂不支持这种消息" in texts(await response.json())
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").iterdir())


async def test_oversized_upload_is_413(client: TestClient[Any, Any]) -> None:
    form = FormData()
    form.add_field("id", new_id())
    form.add_field("file", png_bytes() + b"\x00" * (5 * 1024 * 1024 + 10), filename="a.png", content_type="image/png")
    response = await client.post("/chat/api/upload", data=form)
    assert response.status == 413


@pytest.mark.parametrize(
    ("head", "ext"),
    [
        (b"\xff\xd8\xff\xe0", ".jpg"),
        (b"\x89PNG\r\n\x1a\n", ".png"),
        (b"RIFF\x00\x00\x00\x00WEBP", ".webp"),
        (b"GIF89a", ".gif"),
        (b"%PDF-1.7", None),
        (b"<svg", None),
        (b"RIFF\x00\x00\x00\x00WAVE", None),
    ],
)
def test_image_type_comes_from_the_bytes(head: bytes, ext: str | None) -> None:
    assert image_extension(head) == ext


# --- pushes -------------------------------------------------------------------------------------------


async def read_events(client: TestClient[Any, Any], after: int, want: int) -> list[tuple[int, dict[str, Any]]]:
    events: list[tuple[int, dict[str, Any]]] = []
    response = await client.get("/chat/api/events", params={"after": str(after)})
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    event_id = 0
    async with asyncio.timeout(10):
        while len(events) < want:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                events.append((event_id, json.loads(line[6:])))
    response.close()
    return events


async def test_status_push_reaches_an_open_page_once(client: TestClient[Any, Any]) -> None:
    svc = services(client)
    await say(client, "你好")
    async with svc.sessions() as session:
        (chat_id,) = (await session.execute(select(InboundMessage.message_key))).scalar_one().split(":")[:1]
    reader = asyncio.create_task(read_events(client, 0, 1))
    await asyncio.sleep(0.2)
    status = Outbound("【交通运输局】已受理您的问政", purpose=Purpose.STATUS, ticket_number="WZ20261122-0001")
    async with svc.sessions.begin() as session:
        await svc.outbox.enqueue(session, ConversationRef("webchat", "web", chat_id), status, svc.clock())
    await svc.worker.drain()
    events = await reader
    assert events[0][1]["text"] == "【交通运输局】已受理您的问政"
    assert events[0][1]["purpose"] == "status"
    # A retried delivery of the same outbox row does not show twice; a reconnect resumes after it.
    assert svc.webchat is not None
    await svc.webchat.send(ConversationRef("webchat", "web", chat_id), status, "1")
    assert await count(client, WebchatMailbox) == 1
    response = await client.get("/chat/api/events", headers={"Last-Event-ID": str(events[0][0])})
    line = ""
    async with asyncio.timeout(3):
        while not line.startswith("retry"):
            line = (await response.content.readline()).decode()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            while not (await response.content.readline()).startswith(b"data"):
                pass
    response.close()


def test_chat_id_is_a_hash_of_the_token() -> None:
    token = "t" * 43
    assert WebchatChannel.chat_id_for(token) != token
    assert len(WebchatChannel.chat_id_for(token)) == 40


async def test_a_form_left_for_half_an_hour_is_reset_and_the_citizen_told(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    clock = Clock()
    client = await aiohttp_client(build_app(make_config(tmp_path), clock=clock, run_workers=False))
    await client.post("/chat/api/session")
    await say(client, RICH)
    clock.advance(minutes=31)
    body = await say(client, "提交")
    assert "超过30分钟未完成，已重置" in texts(body)
    assert await count(client, Ticket) == 0


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("en-US,en;q=0.9", "Describe your issue"), ("zh-CN,zh;q=0.9", "直接描述问题"), ("fr-FR", "直接描述问题")],
)
async def test_a_new_citizen_is_answered_in_the_browsers_language(
    aiohttp_client: ClientFactory, tmp_path: Path, accept: str, expected: str
) -> None:
    client = await aiohttp_client(build_app(make_config(tmp_path), clock=Clock(), run_workers=False))
    await client.post("/chat/api/session")
    response = await client.post(
        "/chat/api/messages", json={"id": new_id(), "text": "help"}, headers={"Accept-Language": accept}
    )
    assert expected in texts(await response.json())


async def test_deeply_nested_json_is_a_400_not_a_500(client: TestClient[Any, Any]) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = await client.post("/chat/api/messages", data=body, headers={"Content-Type": "application/json"})
    assert response.status in (400, 413)


async def test_a_long_message_arriving_in_pieces_is_read_whole(client: TestClient[Any, Any]) -> None:
    """A slow phone network delivers the body in several packets; all of them are read."""
    body = json.dumps({"id": new_id(), "text": "香港中路的路灯坏了" * 1500}, ensure_ascii=False).encode()

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]
            await asyncio.sleep(0.01)

    response = await client.post("/chat/api/messages", data=pieces(), headers={"Content-Type": "application/json"})
    assert response.status == 200, await response.text()
    assert "5000字" in texts(await response.json())  # the dialog saw all 13,500 characters
