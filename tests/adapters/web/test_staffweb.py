"""The /staff channel on its own: a recording sink, the real SQL mailbox, tokens from a dict."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import (
    ConversationRef,
    Handled,
    Inbound,
    MessageKind,
    Outbound,
    Purpose,
    TemporarilyUnavailable,
    route_table,
)
from adapters.web.login_throttle import LoginThrottle
from adapters.web.staffweb import StaffSignIn, StaffWebChannel
from storage.database import create_engine, session_factory
from storage.mailbox import SqlMailbox
from storage.migrate import upgrade
from tests.app_helpers import Clock

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
TOKEN = "tok_" + "A" * 40  # shaped like ``secrets.token_urlsafe(32)``
BROKEN = "broken_" + "B" * 40  # checking this one fails as if the database were down
STAFF_ID = 7
REF = ConversationRef("staffweb", "web", "staff-7")


class Sink:
    """The dispatcher as the channel sees it: records what arrived, answers "ok" or is down."""

    def __init__(self) -> None:
        self.received: list[tuple[Inbound, bool]] = []
        self.unavailable = False

    async def handle(self, inbound: Inbound, *, inline: bool = True) -> Handled:
        if self.unavailable:
            raise TemporarilyUnavailable()
        self.received.append((inbound, inline))
        return Handled((Outbound("ok"),))


@dataclass
class Desk:
    client: TestClient[Any, Any]
    channel: StaffWebChannel
    sink: Sink
    tokens: dict[str, int] = field(default_factory=dict)

    async def login(self, token: str = TOKEN) -> None:
        response = await self.client.post("/staff/api/login", json={"token": token})
        assert response.status == 200, await response.text()

    async def post(self, body: dict[str, Any]) -> Any:
        return await self.client.post("/staff/api/messages", json=body)


class DictAuth:
    """The ``StaffAuth`` port on dicts, for the request rules (the SQL one is tested in
    tests/bot/test_staff_auth.py): a session lives while its token is in ``tokens``."""

    def __init__(self, tokens: dict[str, int], clock: Clock) -> None:
        self.tokens = tokens
        self.sessions: dict[str, str] = {}
        self.clock = clock

    async def sign_in(self, token: str) -> StaffSignIn | None:
        if token == BROKEN:
            raise ConnectionError("database is down")
        if token not in self.tokens:
            return None
        session_id = "sess_" + secrets.token_urlsafe(32)
        self.sessions[session_id] = token
        return StaffSignIn(self.tokens[token], session_id, self.clock() + timedelta(hours=12))

    async def staff_for(self, session_id: str) -> int | None:
        if session_id == BROKEN:
            raise ConnectionError("database is down")
        token = self.sessions.get(session_id)
        return None if token is None else self.tokens.get(token)

    async def sign_out(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)


async def open_desk(
    aiohttp_client: ClientFactory, sessions: async_sessionmaker[AsyncSession], throttle: LoginThrottle | None = None
) -> Desk:
    tokens = {TOKEN: STAFF_ID}
    sink = Sink()
    channel = StaffWebChannel(
        sink,
        SqlMailbox(sessions),
        DictAuth(tokens, Clock()),
        Clock(),
        throttle=throttle,
        max_body_bytes=4096,
        poll_seconds=0.05,
        keepalive_seconds=0.2,
    )
    app = web.Application()
    app.router.add_routes(route_table(channel.routes()))

    async def shutdown(_app: web.Application) -> None:
        await channel.close()

    app.on_shutdown.append(shutdown)
    return Desk(await aiohttp_client(app), channel, sink, tokens)


@pytest.fixture
async def desk(aiohttp_client: ClientFactory, tmp_path: Path) -> AsyncIterator[Desk]:
    """For the request rules: the mailbox is not involved, so one database kind is enough."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'staffweb.db'}")
    try:
        await upgrade(engine)
        yield await open_desk(aiohttp_client, session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
async def pushing_desk(aiohttp_client: ClientFactory, sessions: async_sessionmaker[AsyncSession]) -> Desk:
    """For pushes: the real mailbox on each database kind (``sessions`` is parametrised)."""
    return await open_desk(aiohttp_client, sessions)


async def error_of(response: Any) -> str:
    payload = await response.json()
    assert payload["message"]["zh"] and payload["message"]["en"]
    return str(payload["error"])


# --- the page ---------------------------------------------------------------------------------------


async def test_page_and_its_assets_are_served_under_a_strict_csp(desk: Desk) -> None:
    page = await desk.client.get("/staff")
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = await page.text()
    assert "/staff/static/staff.js" in html and "/staff/static/chat.css" in html
    assert "<script>" not in html and "style=" not in html and "onclick" not in html
    for name, kind in (("staff.js", "javascript"), ("chat.css", "text/css"), ("staff.css", "text/css")):
        asset = await desk.client.get(f"/staff/static/{name}")
        assert asset.status == 200 and kind in asset.headers["Content-Type"]


@pytest.mark.parametrize("name", ["..%2Fstaffweb.py", "staff.html", "x.py", "missing.js"])
async def test_static_route_serves_only_existing_assets(desk: Desk, name: str) -> None:
    assert (await desk.client.get(f"/staff/static/{name}")).status == 404


# --- signing in ---------------------------------------------------------------------------------------


async def test_login_sets_the_token_as_a_strict_http_only_cookie_for_staff_paths(desk: Desk) -> None:
    response = await desk.client.post("/staff/api/login", json={"token": f"  {TOKEN}\n"})
    assert response.status == 200
    assert (await response.json())["staff_id"] == STAFF_ID
    cookie = response.cookies["wz_staff"]
    assert cookie.value.startswith("sess_") and TOKEN not in cookie.value  # a session id, never the token
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/staff"
    assert not cookie["secure"]
    assert int(cookie["max-age"]) == 12 * 3600  # it ends when the session does
    session = await desk.client.get("/staff/api/session")
    assert session.status == 200 and (await session.json())["staff_id"] == STAFF_ID


@pytest.mark.parametrize("token", ["A" * 43, "short", "has spaces in it and is long enough", ""])
async def test_login_with_a_bad_token_is_403_and_sets_nothing(desk: Desk, token: str) -> None:
    response = await desk.client.post("/staff/api/login", json={"token": token})
    assert response.status == 403
    assert await error_of(response) == "bad_token"
    assert "wz_staff" not in response.cookies


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [(b"{", "application/json", 400), (b'{"token": 5}', "application/json", 400), (b"token=x", "text/plain", 415)],
)
async def test_login_with_a_malformed_body_is_refused(desk: Desk, body: bytes, content_type: str, status: int) -> None:
    response = await desk.client.post("/staff/api/login", data=body, headers={"Content-Type": content_type})
    assert response.status == status


async def test_without_a_cookie_every_api_call_is_401(desk: Desk) -> None:
    for response in (
        await desk.post({"id": "abcdefgh12", "text": "待办"}),
        await desk.client.get("/staff/api/events"),
        await desk.client.get("/staff/api/session"),
    ):
        assert response.status == 401
        assert await error_of(response) == "no_session"
    assert desk.sink.received == []


async def test_a_revoked_token_stops_working_on_the_next_call(desk: Desk) -> None:
    await desk.login()
    assert (await desk.post({"id": "abcdefgh12", "text": "待办"})).status == 200
    del desk.tokens[TOKEN]
    response = await desk.post({"id": "abcdefgh13", "text": "待办"})
    assert response.status == 401 and await error_of(response) == "no_session"
    assert len(desk.sink.received) == 1


async def test_logout_clears_the_cookie_and_ends_the_session_on_the_server(desk: Desk) -> None:
    await desk.login()
    copied = {c.key: c.value for c in desk.client.session.cookie_jar}
    response = await desk.client.post("/staff/api/logout")
    assert response.status == 200
    assert response.cookies["wz_staff"].value == "" and response.cookies["wz_staff"]["path"] == "/staff"
    assert (await desk.client.get("/staff/api/session")).status == 401
    desk.client.session.cookie_jar.update_cookies(copied)  # a copy of the cookie kept from before
    assert (await desk.client.get("/staff/api/session")).status == 401


async def test_a_token_check_that_fails_is_503_not_500(desk: Desk) -> None:
    desk.client.session.cookie_jar.update_cookies({"wz_staff": BROKEN})
    response = await desk.client.get("/staff/api/session")
    assert response.status == 503 and await error_of(response) == "unavailable"


# --- messages -------------------------------------------------------------------------------------------


async def test_a_message_reaches_the_sink_as_the_staff_members_own_conversation(desk: Desk) -> None:
    await desk.login()
    response = await desk.post({"id": "abcdefgh12", "text": "接单 WZ20261122-0007"})
    assert response.status == 200
    assert (await response.json())["replies"][0]["text"] == "ok"
    ((inbound, inline),) = desk.sink.received
    assert inline
    assert inbound.channel == "staffweb" and inbound.conversation == REF
    assert inbound.sender_id == "7" and inbound.message_key == "staff-7:abcdefgh12"
    assert inbound.kind is MessageKind.TEXT and inbound.text == "接单 WZ20261122-0007"


async def test_a_tapped_card_button_is_a_structured_choice(desk: Desk) -> None:
    await desk.login()
    response = await desk.post({"id": "abcdefgh12", "choice": {"id": "claim:WZ20261122-0007", "label": "接单"}})
    assert response.status == 200
    ((inbound, _),) = desk.sink.received
    assert inbound.kind is MessageKind.CHOICE
    assert (inbound.choice_id, inbound.text) == ("claim:WZ20261122-0007", "接单")


async def test_a_redelivery_keeps_its_key_so_the_dispatcher_can_recognise_it(desk: Desk) -> None:
    await desk.login()
    body = {"id": "abcdefgh12", "text": "办结 WZ20261122-0007"}
    assert (await desk.post(body)).status == 200
    assert (await desk.post(body)).status == 200
    first, second = (inbound for inbound, _ in desk.sink.received)
    assert first.message_key == second.message_key == "staff-7:abcdefgh12"


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[" * 3000, "application/json", 400),
        (b"[]", "application/json", 400),
        (b'{"text": "hi"}', "application/json", 400),
        (b'{"id": "short", "text": "hi"}', "application/json", 400),
        (b'{"id": "abcdefgh12", "text": 5}', "application/json", 400),
        (b'{"id": "abcdefgh12", "choice": "claim"}', "application/json", 400),
        (b'{"id": "abcdefgh12", "location": {"lat": 36, "lon": 120}}', "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (b'{"id": "abcdefgh12", "text": "' + b"x" * 5000 + b'"}', "application/json", 413),
        (b"text=hi", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_bad_messages_get_a_clear_error_and_reach_nobody(
    desk: Desk, body: bytes, content_type: str, status: int
) -> None:
    await desk.login()
    response = await desk.client.post("/staff/api/messages", data=body, headers={"Content-Type": content_type})
    assert response.status == status
    await error_of(response)
    assert desk.sink.received == []


async def test_an_unavailable_sink_is_503_and_the_same_message_goes_through_later(desk: Desk) -> None:
    await desk.login()
    body = {"id": "abcdefgh12", "text": "待办"}
    desk.sink.unavailable = True
    response = await desk.post(body)
    assert response.status == 503 and await error_of(response) == "unavailable"
    desk.sink.unavailable = False
    assert (await desk.post(body)).status == 200
    assert [i.message_key for i, _ in desk.sink.received] == ["staff-7:abcdefgh12"]


# --- pushes -----------------------------------------------------------------------------------------------


async def next_events(response: Any, want: int, seconds: float = 5) -> list[tuple[int, dict[str, Any]]]:
    events: list[tuple[int, dict[str, Any]]] = []
    event_id = 0
    async with asyncio.timeout(seconds):
        while len(events) < want:
            line = (await response.content.readline()).decode()
            if not line:
                break
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                events.append((event_id, json.loads(line[6:])))
    return events


CARD = Outbound(
    "【新问政】WZ20261122-0007\n市南区香港中路路灯不亮", purpose=Purpose.STATUS, ticket_number="WZ20261122-0007"
)


async def test_a_push_reaches_the_open_page_and_a_reconnect_resumes_after_it(pushing_desk: Desk) -> None:
    await pushing_desk.login()
    stream = await pushing_desk.client.get("/staff/api/events", params={"after": "0"})
    assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
    await pushing_desk.channel.send(REF, CARD, "delivery-1")
    ((first_id, payload),) = await next_events(stream, 1)
    assert payload == CARD.to_dict()
    await pushing_desk.channel.send(REF, CARD, "delivery-1")  # the outbox retried: stored once, shown once
    await pushing_desk.channel.send(ConversationRef("staffweb", "web", "staff-8"), Outbound("not yours"), "delivery-2")
    stream.close()

    resumed = await pushing_desk.client.get("/staff/api/events", headers={"Last-Event-ID": str(first_id)})
    await pushing_desk.channel.send(REF, Outbound("【提醒】WZ20261122-0007"), "delivery-3")
    ((second_id, reminder),) = await next_events(resumed, 1)
    assert second_id > first_id and reminder["text"] == "【提醒】WZ20261122-0007"
    resumed.close()


async def test_revoking_the_token_ends_an_open_event_stream(pushing_desk: Desk) -> None:
    await pushing_desk.login()
    stream = await pushing_desk.client.get("/staff/api/events")
    assert stream.status == 200
    del pushing_desk.tokens[TOKEN]
    await pushing_desk.channel.send(REF, CARD, "delivery-1")
    assert await next_events(stream, 1) == []  # the stream ended without showing the card
    assert (await pushing_desk.client.get("/staff/api/events")).status == 401


async def test_a_bad_resume_point_is_400(desk: Desk) -> None:
    await desk.login()
    response = await desk.client.get("/staff/api/events", params={"after": "yesterday"})
    assert response.status == 400 and await error_of(response) == "malformed"


# --- sign-in attempts are limited per address (issue #12 item 7) ------------------------------------


@dataclass
class Ticking:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_ten_failures_lock_the_address_out_with_429_and_retry_after(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    clock = Ticking()
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'staffweb.db'}")
    try:
        await upgrade(engine)
        throttle = LoginThrottle(max_failures=10, window_seconds=600, clock=clock)
        desk = await open_desk(aiohttp_client, session_factory(engine), throttle)
        for i in range(10):
            wrong = await desk.client.post("/staff/api/login", json={"token": f"wrong_{i:02d}" + "x" * 40})
            assert wrong.status == 403
            clock.now += 1
        for token in ("still_wrong" + "y" * 40, TOKEN):  # now even the real token waits
            refused = await desk.client.post("/staff/api/login", json={"token": token})
            assert refused.status == 429 and await error_of(refused) == "too_many_attempts"
            assert int(refused.headers["Retry-After"]) == 590  # the first failure leaves the window then
            assert "wz_staff" not in refused.cookies
        clock.now += 590
        await desk.login()  # the window moved on: the real token works again
        assert (await desk.client.get("/staff/api/session")).status == 200
    finally:
        await engine.dispose()


def test_the_throttle_counts_per_address_forgets_on_success_and_stays_bounded() -> None:
    clock = Ticking()
    throttle = LoginThrottle(max_failures=3, window_seconds=60, clock=clock, max_addresses=100)
    for _ in range(3):
        throttle.failed("198.51.100.7")
    assert throttle.retry_after("198.51.100.7") == 60
    assert throttle.retry_after("203.0.113.9") is None  # another address is not affected
    throttle.failed("203.0.113.9")
    throttle.succeeded("203.0.113.9")
    for _ in range(2):
        throttle.failed("203.0.113.9")
    assert throttle.retry_after("203.0.113.9") is None  # the earlier failure was forgotten on success
    for i in range(1000):  # a spray from many addresses
        throttle.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(throttle._failures) == 100
