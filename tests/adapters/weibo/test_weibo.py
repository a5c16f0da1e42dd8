"""The Weibo channel end to end: the real app, real push formats, a fake Weibo on loopback.

The fake (``tests/adapters/weibo/fake_api.py``) signs pushes like the platform, checks every passive
reply's format, and refuses (and records as a violation) any API reply outside the 48-hour window
or after an unfollow, so these tests fail when the channel sends what it should have held back.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from adapters.base import (
    ConversationRef,
    DeliveryContext,
    Handled,
    Inbound,
    Outbound,
    OutsideWindow,
    RequestNonce,
    SendError,
    TemporarilyUnavailable,
    route_table,
)
from adapters.weibo.channel import WeiboChannel, WeiboSettings
from bot.app import SERVICES, Services, build_app
from bot.config import ConfigError, StaffConfig
from storage.models import Identity, InboundMessage, OutboxMessage, Ticket
from storage.sessions import MemorySessionStore
from storage.staff import StaffRepository
from tests.adapters.weibo.fake_api import FakeWeibo, Passive
from tests.app_helpers import Clock, make_config

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "weibo"
SECRET = "weibo-app-secret"
TOKEN = "weibo-access-token"
ACCOUNT = "1902538057"
CITIZEN = "2489518277"
RICH = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险，我的电话13812345678"
BEIJING = timezone(timedelta(hours=8))
DESK = "/staff/api/messages"


def payload(name: str, **changes: Any) -> dict[str, Any]:
    body = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    assert isinstance(body, dict)
    return {**body, **changes}


@dataclass
class World:
    client: TestClient[Any, Any]
    fake: FakeWeibo
    clock: Clock
    staff_client: Callable[[], Awaitable[TestClient[Any, Any]]]

    @property
    def services(self) -> Services:
        services: Services = self.client.app[SERVICES]
        return services

    def created_at(self) -> str:
        return self.clock().astimezone(BEIJING).strftime("%a %b %d %H:%M:%S %z %Y")

    async def push(self, body: Any) -> Passive:
        return await self.fake.push(self.client, body)

    async def say(self, text: str, sender: str = CITIZEN) -> Passive:
        """A new private message a second after the previous one, as the citizen types it."""
        self.clock.advance(seconds=1)
        answer = await self.push(payload("text.json", text=text, sender_id=int(sender), created_at=self.created_at()))
        assert answer.status == 200, answer.body
        return answer

    async def event(self, name: str, sender: str = CITIZEN) -> Passive:
        self.clock.advance(seconds=1)
        answer = await self.push(payload(name, sender_id=int(sender), created_at=self.created_at()))
        assert answer.status == 200, answer.body
        return answer

    async def deliver(self) -> None:
        await self.services.worker.drain()

    async def staff(self, name: str) -> TestClient[Any, Any]:
        async with self.services.sessions.begin() as session:
            repo = StaffRepository()
            member = await repo.by_name(session, name)
            assert member is not None
            token = await repo.issue_token(session, member.id, self.clock())
        client = await self.staff_client()
        assert (await client.post("/staff/api/login", json={"token": token})).status == 200
        return client

    async def count(self, model: Any, *where: Any) -> int:
        async with self.services.sessions() as session:
            stmt = select(func.count()).select_from(model)
            for condition in where:
                stmt = stmt.where(condition)
            return int((await session.execute(stmt)).scalar_one())

    async def ticket(self, number: str) -> Ticket:
        async with self.services.sessions() as session:
            found: Ticket = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one()
            return found

    async def file(self) -> str:
        """A citizen on Weibo files RICH: the summary comes back passively, then "1" submits."""
        summary = await self.say(RICH)
        assert summary.text is not None and summary.text.startswith("请确认您的问政内容"), summary
        assert summary.text.endswith("1. 提交\n2. 修改\n3. 取消\n4. 同意公开")
        filed = await self.say("1")
        assert filed.text is not None
        found = re.search(r"WZ\d{8}-\d{4}", filed.text)
        assert found is not None, filed.text
        return found.group(0)


async def staff_say(client: TestClient[Any, Any], text: str) -> str:
    """A staff member types on /staff (each message with its own client id, as the page does)."""
    response = await client.post(DESK, json={"id": f"desk-{secrets.token_hex(8)}", "text": text})
    assert response.status == 200, await response.text()
    return "\n".join(r["text"] for r in (await response.json())["replies"])


@pytest.fixture
async def world(aiohttp_client: ClientFactory, aiohttp_server: ServerFactory, tmp_path: Path) -> AsyncIterator[World]:
    clock = Clock()
    fake = FakeWeibo(clock, SECRET, TOKEN, account_id=ACCOUNT)
    api = await aiohttp_server(fake.app())
    base = make_config(tmp_path)
    weibo = base.channels.weibo.model_copy(
        update={"enabled": True, "app_secret": SECRET, "access_token": TOKEN, "api_base_url": str(api.make_url(""))}
    )
    config = base.model_copy(
        update={
            "channels": base.channels.model_copy(update={"weibo": weibo}),
            "staff": [StaffConfig(name="张三", department="urban", role="handler")],
        }
    )
    app = build_app(config, clock=clock, run_workers=False)
    client = await aiohttp_client(app)
    yield World(client, fake, clock, lambda: aiohttp_client(client.server))
    channel = app[SERVICES].platforms["weibo"]
    assert isinstance(channel, WeiboChannel)
    await channel.close()  # until the app closes platform channels on cleanup itself


def test_an_enabled_channel_without_its_secrets_does_not_start(tmp_path: Path) -> None:
    base = make_config(tmp_path)
    weibo = base.channels.weibo.model_copy(update={"enabled": True, "access_token": TOKEN})
    config = base.model_copy(update={"channels": base.channels.model_copy(update={"weibo": weibo})})
    with pytest.raises(ConfigError, match=r"channels\.weibo\.app_secret"):
        build_app(config, clock=Clock(), run_workers=False)


# --- verification ----------------------------------------------------------------------------------


async def test_the_console_url_check_echoes_echostr(world: World) -> None:
    ok = await world.client.get("/webhooks/weibo", params={**world.fake.query(), "echostr": "abc123"})
    assert ok.status == 200 and await ok.text() == "abc123"
    forged = {**world.fake.query(secret="guess"), "echostr": "abc123"}
    assert (await world.client.get("/webhooks/weibo", params=forged)).status == 403
    assert (await world.client.get("/webhooks/weibo", params={"echostr": "abc123"})).status == 403
    replay = {**world.fake.query(nonce="same-nonce"), "echostr": "x"}
    assert (await world.client.get("/webhooks/weibo", params=replay)).status == 200
    assert (await world.client.get("/webhooks/weibo", params=replay)).status == 403
    assert (await world.client.get("/webhooks/weibo", params=world.fake.query())).status == 400  # no echostr


async def test_signature_matrix(world: World) -> None:
    """Forged, unsigned, stale or replayed pushes are refused with 403 and never stored."""
    now = int(world.clock().timestamp())
    fresh = world.fake.query()
    cases = {
        "bad signature": {**fresh, "signature": "0" * 40},
        "wrong secret": world.fake.query(secret="not-the-secret"),
        "missing signature": {k: v for k, v in fresh.items() if k != "signature"},
        "missing timestamp": {k: v for k, v in fresh.items() if k != "timestamp"},
        "missing nonce": {k: v for k, v in fresh.items() if k != "nonce"},
        "stale": world.fake.query(timestamp=now - 6 * 60),
        "from the future": world.fake.query(timestamp=now + 6 * 60),
        "no query at all": {},
    }
    body = payload("text.json", created_at=world.created_at())
    for case, query in cases.items():
        answer = await world.fake.push(world.client, body, query=query)
        assert answer.status == 403, case
    assert await world.count(InboundMessage) == 0

    once = world.fake.query(nonce="used-once")
    assert (await world.fake.push(world.client, body, query=once)).status == 200
    replayed = await world.fake.push(world.client, payload("text.json", text="又一条"), query=once)
    assert replayed.status == 403
    assert await world.count(InboundMessage) == 1


# --- bad input -----------------------------------------------------------------------------------------


async def test_oversized_body_is_413(world: World) -> None:
    huge = payload("text.json", text="路" * 30_000)  # ~90 KB of UTF-8: over 64 KiB, under the server limit
    assert (await world.push(huge)).status == 413
    assert await world.count(InboundMessage) == 0


async def test_malformed_pushes_are_400_never_500(world: World) -> None:
    for path in sorted(PAYLOADS.glob("bad_*.json")):
        answer = await world.push(path.read_bytes())
        assert answer.status == 400, path.name
    assert await world.count(InboundMessage) == 0
    assert world.fake.sent == []


# --- every recorded push ------------------------------------------------------------------------------


async def test_every_recorded_push(world: World) -> None:
    """Each push from its own citizen: what is stored, what the passive reply says, and what
    follows through the API (a reply beyond the first)."""
    cases: list[tuple[str, str, str | None, str | None, str | None]] = [
        # file, stored kind, stored text contains, passive reply contains (None: empty body), then via the API
        ("text.json", "text", "香港中路的路灯坏了一个星期了，晚上很危险", "", None),
        ("position.json", "location", None, "问政平台", "地点已记录"),
        ("position_data_urlencoded.json", "location", None, "问政平台", "地点已记录"),
        ("image.json", "image", None, "问政平台", "照片已收到"),
        ("voice.json", "voice", None, "无法识别语音", None),
        ("event_follow.json", "event", None, "问政平台", None),
        ("event_subscribe.json", "event", None, "问政平台", None),
        ("event_scan_follow.json", "event", None, "问政平台", None),
        ("event_scan.json", "event", None, None, None),
        ("event_view.json", "event", None, None, None),
        ("event_click_new.json", "text", "我要问政", "问政平台", None),  # one welcome, which asks for the issue
        ("event_click_my.json", "text", "我的", "您还没有提交过问政", None),
        ("event_click_help.json", "text", "帮助", "“我要问政”开始新的问政", None),
        ("event_click_unknown_key.json", "event", None, None, None),
        ("mention.json", "text", "原微博：https://m.weibo.cn/status/4981234567890123", "", None),
        ("event_unfollow.json", "event", None, None, None),
        ("event_unsubscribe.json", "event", None, None, None),
    ]
    rows: dict[str, InboundMessage] = {}
    for index, (name, kind, text, reply, _) in enumerate(cases):
        sender = str(3_000_000_000 + index)
        answer = await world.event(name, sender=sender)
        if reply is None:
            assert answer.body == "", name
        else:
            assert answer.text is not None and reply in answer.text, (name, answer.text)
        async with world.services.sessions() as session:
            stmt = select(InboundMessage).where(InboundMessage.message_key.startswith(f"{sender}:"))
            rows[name] = row = (await session.execute(stmt)).scalar_one()
        assert row.kind == kind, name
        assert text is None or text in row.text, name
    assert rows["position.json"].payload["location"] == {"lat": 36.06203, "lon": 120.384428, "label": ""}
    assert rows["image.json"].payload["media"] == [{"kind": "image", "ref": "weibo:821804469", "url": None}]
    assert rows["event_scan.json"].payload["event"] == "scan"

    await world.deliver()
    for index, (name, *_, later) in enumerate(cases):
        if later is not None:
            assert any(later in t for t in world.fake.texts(str(3_000_000_000 + index))), name
    assert world.fake.violations == []
    async with world.services.sessions() as session:
        unreachable = (await session.execute(select(Identity.chat_id).where(Identity.reachable.is_(False)))).scalars()
        assert sorted(unreachable) == [str(3_000_000_000 + len(cases) - 2), str(3_000_000_000 + len(cases) - 1)]
    for ignored in ("unknown_type.json", "event_unknown_subtype.json"):
        answer = await world.event(ignored, sender="3999999999")
        assert (answer.status, answer.body) == (200, "")
    assert await world.count(InboundMessage) == len(cases)  # the unknown ones are not stored


async def test_mention_starts_an_inquiry_that_links_the_post(world: World) -> None:
    world.clock.advance(seconds=1)
    mention = payload("mention.json", text=f"@青岛市民热线 {RICH}", created_at=world.created_at())
    answer = await world.push(mention)
    assert answer.text is not None and answer.text.startswith("请确认您的问政内容")
    assert "原微博：https://m.weibo.cn/status/4981234567890123" in answer.text


# --- redelivery ---------------------------------------------------------------------------------------


async def test_redelivery_gets_the_same_passive_reply_and_sends_nothing_twice(world: World) -> None:
    world.clock.advance(seconds=1)
    body = payload("text.json", text=RICH, created_at=world.created_at())
    first = await world.push(body)
    again = await world.push(body)  # the platform's retry: same push, freshly signed
    assert first.text is not None and first.text.startswith("请确认您的问政内容")
    assert again.text == first.text
    assert await world.count(InboundMessage) == 1
    await world.deliver()
    assert world.fake.sent == [] and await world.count(OutboxMessage) == 0

    same_second = {**body, "text": "还有，路口的红绿灯也坏了"}  # same created_at, other content: a new message
    assert (await world.push(same_second)).status == 200
    assert await world.count(InboundMessage) == 2


# --- long texts ----------------------------------------------------------------------------------------


async def test_a_reply_too_long_for_a_passive_answer_goes_through_the_api_once(world: World) -> None:
    # About the street only: "车辆经过时声音很大" eight times reads as traffic too, and the topic is asked.
    long_story = RICH + "，" + "路灯下面的井盖也松动了，晚上走路很容易踩空" * 8
    world.clock.advance(seconds=1)
    body = payload("text.json", text=long_story, created_at=world.created_at())
    first = await world.push(body)
    assert first.status == 200 and first.body == ""  # the summary is over 300 characters
    again = await world.push(body)
    assert again.status == 200 and again.body == ""
    await world.deliver()
    parts = world.fake.texts(CITIZEN)
    assert len(parts) == 2 and all(len(p) < 300 for p in parts)
    assert parts[0].startswith("请确认您的问政内容") and parts[-1].endswith("1. 提交\n2. 修改\n3. 取消\n4. 同意公开")
    filed = await world.say("1")
    assert filed.text is not None and "提交成功" in filed.text
    assert world.fake.violations == []


async def test_very_long_text_is_kept_and_the_citizen_asked_to_shorten_it(world: World) -> None:
    text = "香港中路的路灯坏了，" * 600  # 6000 characters, over the 5000 a description may have
    answer = await world.say(text)
    assert answer.text is not None and "超过了5000字的上限" in answer.text
    async with world.services.sessions() as session:
        stored = (await session.execute(select(InboundMessage.text))).scalar_one()
    assert stored == text


# --- the whole loop, and the platform's windows --------------------------------------------------------


async def test_the_whole_loop_from_filing_to_rating(world: World) -> None:
    zhang = await world.staff("张三")
    welcome = await world.event("event_follow.json")
    assert welcome.text is not None and "问政平台" in welcome.text
    number = await world.file()  # the passive reply says 已受理 and the department
    await world.deliver()
    assert world.fake.sent == []  # so no separate "已受理" push that could arrive before it

    assert "已接单" in await staff_say(zhang, f"接单 {number}")
    await world.deliver()
    assert "工作人员已接单" in world.fake.texts(CITIZEN)[-1]

    await staff_say(zhang, f"回复 {number} 路灯已于今天修复，感谢您的反映。")
    await world.deliver()
    answer, prompt = world.fake.texts(CITIZEN)[-2:]
    assert answer.startswith("【城市管理局】答复：路灯已于今天修复")
    assert number in prompt and prompt.endswith("1. 满意\n2. 基本满意\n3. 不满意")

    thanks = await world.say("1")
    assert thanks.text is not None and "感谢您的评价" in thanks.text
    assert (await world.ticket(number)).status == "closed"
    assert world.fake.violations == []


async def test_outside_the_48_hour_window_a_push_is_held_until_the_citizen_writes(world: World) -> None:
    zhang = await world.staff("张三")
    number = await world.file()
    await world.deliver()
    delivered = len(world.fake.sent)

    world.clock.advance(hours=48, minutes=1)
    await staff_say(zhang, f"接单 {number}")
    await world.deliver()
    assert len(world.fake.sent) == delivered  # nothing sent: the window is closed
    assert await world.count(OutboxMessage, OutboxMessage.status == "held") == 1

    mine = await world.say("我的")  # the citizen writes again: answered passively, and the window reopens
    assert mine.text is not None and number in mine.text
    await world.deliver()
    assert "工作人员已接单" in world.fake.texts(CITIZEN)[-1]
    assert await world.count(OutboxMessage, OutboxMessage.status == "held") == 0
    assert world.fake.violations == []


async def test_after_unfollow_nothing_more_is_sent(world: World) -> None:
    zhang = await world.staff("张三")
    number = await world.file()
    await staff_say(zhang, f"接单 {number}")  # its "已接单" push is queued, not yet delivered
    gone = await world.event("event_unfollow.json")
    assert gone.body == ""
    await world.deliver()  # queued before the unfollow, due after it: not sent
    assert world.fake.sent == []
    assert await world.count(OutboxMessage, OutboxMessage.status == "dead") == 1

    await staff_say(zhang, f"回复 {number} 路灯已于今天修复")
    await world.deliver()
    assert world.fake.sent == [] and world.fake.violations == []
    async with world.services.sessions() as session:
        reachable = (await session.execute(select(Identity.reachable).where(Identity.chat_id == CITIZEN))).scalar_one()
    assert reachable is False

    back = await world.event("event_follow.json")  # following again makes them reachable again
    assert back.text is not None and "问政平台" in back.text
    assert world.fake.violations == []


async def test_api_errors_are_retried_with_backoff_then_delivered(world: World) -> None:
    zhang = await world.staff("张三")
    await staff_say(zhang, f"接单 {await world.file()}")  # queues the "已接单" push
    world.fake.fail_next(502)
    world.fake.fail_next(403, {"request": "/2/messages/reply.json", "error_code": "10023", "error": "rate limit"})
    await world.deliver()
    assert world.fake.sent == []
    world.clock.advance(seconds=5)
    await world.deliver()
    assert world.fake.sent == []
    world.clock.advance(seconds=10)
    await world.deliver()
    assert "已接单" in world.fake.texts(CITIZEN)[-1] and world.fake.calls == 3


async def test_a_user_that_no_longer_exists_is_dead_lettered_at_once(world: World) -> None:
    zhang = await world.staff("张三")
    await staff_say(zhang, f"接单 {await world.file()}")  # queues the "已接单" push
    world.fake.fail_next(
        400, {"request": "/2/messages/reply.json", "error_code": "20003", "error": "User does not exists!"}
    )
    await world.deliver()
    assert await world.count(OutboxMessage, OutboxMessage.status == "dead") == 1
    async with world.services.sessions() as session:
        reachable = (await session.execute(select(Identity.reachable).where(Identity.chat_id == CITIZEN))).scalar_one()
    assert reachable is False


# --- the channel on its own: a stub dispatcher, a real client against the fake -------------------------


class StubSink:
    def __init__(self, answer: Handled | None = None) -> None:
        self.answer = answer
        self.seen: list[Inbound] = []

    async def handle(
        self,
        inbound: Inbound,
        *,
        inline: bool = True,
        inline_limit: int | None = None,
        budget: float | None = None,
        inline_fits: Callable[[Outbound], bool] | None = None,
        nonce: RequestNonce | None = None,
        arrived: float | None = None,
    ) -> Handled:
        self.seen.append(inbound)
        assert (inline, inline_limit, budget) == (True, 1, 4.0)
        assert nonce is not None and len(nonce.body_sha256) == 64  # recorded with the message
        assert inline_fits is not None and not inline_fits(Outbound("长" * 300)) and inline_fits(Outbound("短"))
        if self.answer is None:
            raise TemporarilyUnavailable("database down")
        return self.answer


def bare_channel(sink: StubSink, clock: Clock, api: str = "http://127.0.0.1:9", timeout: float = 10.0) -> WeiboChannel:
    settings = WeiboSettings(SECRET, TOKEN, api, timeout_seconds=timeout)
    return WeiboChannel(settings, sink, MemorySessionStore(), clock)


async def test_storage_down_is_503_and_a_slow_dialog_an_empty_answer(aiohttp_client: ClientFactory) -> None:
    clock = Clock()
    fake = FakeWeibo(clock, SECRET, TOKEN)
    for answer, status in ((None, 503), (Handled((Outbound("稍后"),), timed_out=True), 200)):
        sink = StubSink(answer)
        app = web.Application()
        app.router.add_routes(route_table(bare_channel(sink, clock).routes()))
        client = await aiohttp_client(app)
        result = await fake.push(client, payload("text.json"))
        assert (result.status, result.body if status == 200 else "") == (status, "")
        assert len(sink.seen) == 1


async def test_send_holds_outside_the_window_and_retries_timeouts(aiohttp_server: ServerFactory) -> None:
    clock = Clock()
    fake = FakeWeibo(clock, SECRET, TOKEN)
    api = await aiohttp_server(fake.app())
    channel = bare_channel(StubSink(), clock, str(api.make_url("")), timeout=0.2)
    ref = ConversationRef("weibo", ACCOUNT, CITIZEN)
    try:
        for last in (None, clock() - timedelta(hours=49)):
            with pytest.raises(OutsideWindow):
                await channel.send(ref, Outbound("您好"), "1", DeliveryContext(now=clock(), last_inbound_at=last))
        fake.fail_next(200, {}, delay=1.0)
        with pytest.raises(SendError) as slow:
            await channel.send(ref, Outbound("您好"), "2", DeliveryContext(now=clock(), last_inbound_at=clock()))
        assert slow.value.retryable
        assert fake.sent == []
    finally:
        await channel.close()


async def test_a_long_push_resumes_after_a_partial_failure_without_repeating(aiohttp_server: ServerFactory) -> None:
    clock = Clock()
    fake = FakeWeibo(clock, SECRET, TOKEN)
    fake.user_wrote(CITIZEN)
    api = await aiohttp_server(fake.app())
    channel = bare_channel(StubSink(), clock, str(api.make_url("")))
    ref = ConversationRef("weibo", ACCOUNT, CITIZEN)
    message = Outbound("答复：" + "路灯已经修好了，请您放心。" * 50)  # three parts
    context = DeliveryContext(now=clock(), last_inbound_at=clock() - timedelta(minutes=1))
    try:
        fake.fail_next(502, after=1)  # the first part goes, the second fails
        with pytest.raises(SendError):
            await channel.send(ref, message, "7", context)
        assert len(fake.sent) == 1
        await channel.send(ref, message, "7", context)  # the outbox's retry of the same row
        assert len(fake.sent) == 3 and fake.calls == 4
        assert "".join(fake.texts()) == message.text
    finally:
        await channel.close()
