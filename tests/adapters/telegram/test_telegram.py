"""The Telegram channel end to end: the real app, recorded Update JSON, a fake Bot API on loopback.

python-telegram-bot's ``Bot`` talks HTTP to ``tests/adapters/telegram/fake_api.py``; the fake records every
call and fails the test on anything Telegram would punish (more than one message a second in a
chat, twenty a minute in a group, thirty a second overall, oversized texts or button data). Time is
the app's injected clock: the outbox defers a message the limiter holds back, and ``Tg.deliver``
moves the clock to the next due row, so the limits are checked exactly and the suite stays fast.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError
from sqlalchemy import func, select

from adapters.base import ConversationRef, Outbound
from adapters.telegram.channel import SECRET_HEADER, TelegramChannel
from adapters.web.webchat import WebchatChannel
from bot.app import SERVICES, Services, build_app
from bot.config import AppConfig, ConfigError, StaffConfig, StaffIdentityConfig, TelegramConfig
from storage.identities import IdentityRepository
from storage.models import InboundMessage, OutboxMessage, Ticket, WebchatMailbox
from tests.adapters.telegram.fake_api import FakeTelegramAPI
from tests.app_helpers import Clock, make_config

TOKEN = "123456:TEST-fake_token-for-wenzheng"
BOT_ID = "123456"
SECRET = "wz-telegram_secret-0123456789"
GROUP = "-1001234567890"
CITIZEN = "5550001"
STAFF = "1001"
PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "telegram"
RICH = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"
NUMBER = re.compile(r"WZ\d{8}-\d{4}")

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]
# PTB's own RetryAfter constructor reads its deprecated int ``retry_after``; nothing to act on here.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def payload(name: str) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8")))


def telegram_config(tmp_path: Path, api_url: str, *, mode: str = "webhook", secret: str = SECRET) -> AppConfig:
    base = make_config(tmp_path)
    telegram = TelegramConfig(enabled=True, token=TOKEN, secret_token=secret, api_base_url=api_url, mode=mode)  # type: ignore[arg-type]
    departments = [
        d.model_copy(update={"telegram_chat_id": GROUP}) if d.code == "urban" else d for d in base.departments
    ]
    staff = [
        StaffConfig(name="张三", department="urban", identities=[StaffIdentityConfig(channel="telegram", id=STAFF)])
    ]
    return base.model_copy(
        update={
            "channels": base.channels.model_copy(update={"telegram": telegram}),
            "departments": departments,
            "staff": staff,
        }
    )


@dataclass
class Tg:
    """One running service with Telegram enabled, its fake Bot API, and the clock both share."""

    client: TestClient[Any, Any]
    fake: FakeTelegramAPI
    clock: Clock
    factory: ClientFactory
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(800_000_001))

    @property
    def services(self) -> Services:
        return self.client.app[SERVICES]

    @property
    def channel(self) -> TelegramChannel:
        return cast(TelegramChannel, self.services.platforms["telegram"])

    def update(self, name: str, **message: Any) -> dict[str, Any]:
        """A recorded update with a fresh ``update_id``; ``message`` fields override the message's."""
        data = copy.deepcopy(payload(name))
        data["update_id"] = next(self.ids)
        body = next(v for k, v in data.items() if k != "update_id")
        body.update(message)
        return data

    async def post(self, update: Any, *, secret: str | None = SECRET, **kwargs: Any) -> int:
        headers = {} if secret is None else {SECRET_HEADER: secret}
        if "data" in kwargs:
            response = await self.client.post("/webhooks/telegram", headers=headers, **kwargs)
        else:
            response = await self.client.post("/webhooks/telegram", json=update, headers=headers)
        return response.status

    async def push(self, update: dict[str, Any]) -> None:
        assert await self.post(update) == 200

    async def say(self, text: str, chat: str = CITIZEN) -> list[str]:
        """The citizen writes in their private chat; what the bot sends back."""
        before = len(self.fake.sent(chat))
        await self.push(self.update("private_text", text=text, chat={"id": int(chat), "type": "private"}))
        await self.deliver()
        return self.fake.texts(chat)[before:]

    async def tap(self, choice: str, chat: str = CITIZEN, user: str = CITIZEN) -> list[str]:
        """Press the button carrying ``choice`` on the latest message in ``chat`` that has it."""
        message = self.message_with(chat, choice)
        before = len(self.fake.sent(chat))
        data = self.update("callback_query_confirm_submit")
        query = data["callback_query"]
        query.update(data=choice, message=message)
        query["from"] = {**query["from"], "id": int(user)}
        await self.push(data)
        await self.deliver()
        return self.fake.texts(chat)[before:]

    def message_with(self, chat: str, choice: str) -> dict[str, Any]:
        for call in reversed(self.fake.sent(chat)):
            if choice in call.callback_data:
                return cast(dict[str, Any], call.result)
        raise AssertionError(f"no message in {chat} has the button {choice}")

    async def deliver(self) -> None:
        """Send what the outbox holds, moving the clock to each deferred row's time (never more
        than ten minutes in all), as the worker would over real time."""
        limit = self.clock.now + timedelta(minutes=10)
        for _ in range(500):
            await self.services.worker.drain()
            # Rows already due but waiting behind an earlier message to their chat move with it.
            due = await self.next_due(after=self.clock.now)
            if due is None or due > limit:
                return
            self.clock.now = due
        raise AssertionError("the outbox never settled")

    async def next_due(self, after: datetime | None = None) -> datetime | None:
        async with self.services.sessions() as session:
            stmt = select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")
            if after is not None:
                stmt = stmt.where(OutboxMessage.next_attempt_at > after)
            due = (await session.execute(stmt)).scalar_one_or_none()
        return None if due is None else due if due.tzinfo else due.replace(tzinfo=UTC)

    async def stored(self) -> list[InboundMessage]:
        async with self.services.sessions() as session:
            return list((await session.execute(select(InboundMessage).order_by(InboundMessage.id))).scalars())

    async def reachable(self, chat: str) -> bool:
        async with self.services.sessions() as session:
            identity = await IdentityRepository().find(session, "telegram", BOT_ID, chat)
            assert identity is not None
            return identity.reachable

    async def ticket(self) -> Ticket:
        async with self.services.sessions() as session:
            return (await session.execute(select(Ticket))).scalar_one()

    async def file(self) -> str:
        """The citizen files RICH from their private chat and confirms; the ticket number."""
        await self.say(RICH)
        said = "\n".join(await self.tap("confirm:submit"))
        found = NUMBER.search(said)
        assert found is not None, said
        return found.group(0)


async def _close_telegram(app: web.Application) -> None:
    # Stands in for the cleanup hook the app gets for its platform channels (see the report).
    for channel in app[SERVICES].platforms.values():
        close = getattr(channel, "close", None)
        if close is not None:
            await close()


async def start(
    server_factory: ServerFactory,
    client_factory: ClientFactory,
    tmp_path: Path,
    *,
    mode: str = "webhook",
    secret: str = SECRET,
) -> Tg:
    clock = Clock()
    fake = FakeTelegramAPI(clock, TOKEN)
    api = await server_factory(fake.app())
    config = telegram_config(tmp_path, str(api.make_url("")), mode=mode, secret=secret)
    app = build_app(config, clock=clock, run_workers=False)
    app.on_cleanup.append(_close_telegram)
    client = await client_factory(app)
    return Tg(client, fake, clock, client_factory)


@pytest.fixture
async def tg(aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path) -> AsyncIterator[Tg]:
    world = await start(aiohttp_server, aiohttp_client, tmp_path)
    yield world
    assert world.fake.violations == []


# --- the loop ---------------------------------------------------------------------------------------


async def test_citizen_files_in_private_staff_answer_by_replying_to_the_card_citizen_rates(tg: Tg) -> None:
    summary = await tg.say(RICH)
    assert any("请确认" in t for t in summary)
    first = tg.fake.sent(CITIZEN)[0]  # what PTB really sent: form fields with JSON values
    assert first.params["chat_id"] == int(CITIZEN) and isinstance(first.params["text"], str)
    assert tg.message_with(CITIZEN, "confirm:submit")["reply_markup"]["inline_keyboard"]

    filed = await tg.tap("confirm:submit")
    number = NUMBER.search("\n".join(filed))
    assert number is not None
    assert any("提交成功" in t for t in filed) and any("已受理" in t for t in filed)
    # The button was settled: spinner stopped, and the chat shows what was chosen.
    assert len(tg.fake.called("answerCallbackQuery")) == 1
    marked = tg.fake.called("editMessageReplyMarkup")[0].markup["inline_keyboard"][0]
    assert marked[0]["text"].startswith("✓ ") and not marked[1]["text"].startswith("✓ ")

    cards = tg.fake.sent(GROUP)
    assert len(cards) == 1 and number.group(0) in cards[0].text
    assert cards[0].callback_data == [f"staff:claim:{number.group(0)}", f"staff:show:{number.group(0)}"]
    assert "13812345678" not in cards[0].text
    # The handler's private chat gets the card too: queued for ("telegram", "staff", "1001"), the
    # account ignored, sent to chat 1001.
    assert len(tg.fake.sent(STAFF)) == 1

    reply = tg.update("group_reply_to_card", reply_to_message=cards[0].result)
    await tg.push(reply)
    await tg.deliver()
    assert any("已回复" in t for t in tg.fake.texts(GROUP)[1:])
    to_citizen = tg.fake.sent(CITIZEN)
    assert any("已接单" in c.text for c in to_citizen)
    assert any("答复：路灯已于今天修复" in c.text for c in to_citizen)
    prompt = to_citizen[-1]
    assert prompt.callback_data == [f"rate:{number.group(0)}:{n}" for n in (1, 2, 3)]
    assert [b["text"] for b in prompt.markup["inline_keyboard"][0]] == ["满意", "基本满意", "不满意"]

    thanks = await tg.tap(f"rate:{number.group(0)}:1")
    assert any("感谢您的评价" in t for t in thanks)
    assert (await tg.ticket()).status == "closed"


async def test_staff_work_in_the_group_with_buttons_and_commands(tg: Tg) -> None:
    number = await tg.file()
    card = tg.fake.sent(GROUP)[0]
    press = tg.update("callback_query_staff_claim_in_group")
    press["callback_query"].update(data=f"staff:claim:{number}", message=card.result)
    await tg.push(press)
    await tg.deliver()
    assert (await tg.ticket()).status == "assigned"
    assert any("工作人员已接单" in t for t in tg.fake.texts(CITIZEN))
    edit = tg.fake.called("editMessageReplyMarkup")[-1]
    assert edit.chat_id == GROUP and edit.markup["inline_keyboard"][0][0]["text"] == "✓ 接单"

    await tg.push(tg.update("group_command_with_bot_name"))  # /queue@WenzhengBot
    await tg.deliver()
    assert number in tg.fake.texts(GROUP)[-1]


async def test_strangers_in_the_staff_group_and_unknown_groups_get_nothing(tg: Tg) -> None:
    await tg.push(tg.update("group_text_from_non_staff"))
    await tg.push(tg.update("unknown_group_text_from_staff"))  # staff, but not in a staff group
    await tg.push(tg.update("group_new_chat_members"))
    await tg.push(tg.update("my_chat_member_added_to_staff_group"))
    await tg.push(tg.update("channel_post"))
    group = {"id": int(GROUP), "type": "supergroup", "title": "城市管理局 问政工作群"}
    staff = payload("group_reply_to_card")["message"]["from"]
    await tg.push(tg.update("private_photo_with_caption", chat=group, caption=None, **{"from": staff}))
    await tg.push(tg.update("private_sticker", chat=group, **{"from": staff}))
    await tg.deliver()
    assert tg.fake.called("sendMessage") == []
    stored = await tg.stored()
    assert [(m.message_key.split(":")[0], m.text) for m in stored] == [("update", RICH)]  # kept, not answered


async def test_a_web_chat_citizen_is_answered_by_staff_in_the_telegram_group(tg: Tg) -> None:
    web_client = await tg.factory(tg.client.server)
    await web_client.post("/chat/api/session")
    token = next(c.value for c in web_client.session.cookie_jar if c.key == "wz_chat")
    chat_id = WebchatChannel.chat_id_for(token)
    first = await web_client.post("/chat/api/messages", json={"id": "web-00000001", "text": RICH})
    assert first.status == 200
    filed = await web_client.post("/chat/api/messages", json={"id": "web-00000002", "choice": {"id": "confirm:submit"}})
    number = NUMBER.search(json.dumps(await filed.json(), ensure_ascii=False))
    assert number is not None
    await tg.deliver()

    card = tg.fake.sent(GROUP)[0]
    assert number.group(0) in card.text
    await tg.push(tg.update("group_reply_to_card", reply_to_message=card.result))
    await tg.deliver()

    async with tg.services.sessions() as session:
        stmt = select(WebchatMailbox.payload).where(WebchatMailbox.chat_id == chat_id).order_by(WebchatMailbox.id)
        pushes = [dict(p) for p in (await session.execute(stmt)).scalars()]
    assert any("答复：路灯已于今天修复" in p["text"] for p in pushes)
    assert any(c["id"] == f"rate:{number.group(0)}:1" for p in pushes for c in p["choices"])
    assert tg.fake.sent(CITIZEN) == []  # nothing went to Telegram for a web citizen


# --- every update type -------------------------------------------------------------------------------


async def test_every_recorded_update_becomes_the_right_message(tg: Tg) -> None:
    cases = [
        ("private_text", [("update", "text", RICH)]),
        ("private_command_start", [("update", "text", "/start")]),
        ("private_command_start_deep_link", [("update", "text", "/start qr_zhongshan_road")]),
        ("private_command_my", [("update", "text", "/my")]),
        ("private_photo_with_caption", [("update", "image", ""), ("update", "text", "路灯坏了，就是这一根")]),
        ("private_photo_sent_as_file", [("update", "image", "")]),
        ("private_location", [("update", "location", "")]),
        ("private_venue", [("update", "location", "")]),
        ("private_voice", [("update", "voice", "")]),
        ("private_sticker", [("update", "unsupported", "")]),
        ("private_document_pdf", [("update", "unsupported", "")]),
        ("private_video", [("update", "unsupported", "")]),
        ("edited_message_text", [("edit", "text", "青岛市市南区香港中路的路灯坏了两个星期了，晚上很危险")]),
        ("edited_message_live_location", []),
        ("callback_query_confirm_submit", [("update", "choice", "提交")]),
        ("my_chat_member_blocked", [("update", "event", "")]),
        ("my_chat_member_unblocked", [("update", "event", "")]),
    ]
    for name, expected in cases:
        before = len(await tg.stored())
        data = payload(name)
        await tg.push(data)
        rows = (await tg.stored())[before:]
        got = [(r.message_key.split(":")[0], r.kind, r.text) for r in rows]
        assert got == expected, name
        assert all(r.message_key.split(":")[1] == str(data["update_id"]) for r in rows), name

    by_key = {r.message_key: r for r in await tg.stored()}
    photo = by_key["update:700000006"].payload
    assert photo["media"] == [{"kind": "image", "ref": "AgACAgUAAxkBAAIBQ2bS_large", "url": None}]
    assert photo["sender_id"] == CITIZEN
    assert by_key["update:700000006:caption"].kind == "text"
    assert by_key["update:700000007"].payload["media"][0]["ref"] == "BQACAgUAAxkBAAIBRGbS_doc"
    assert by_key["update:700000008"].payload["location"] == {"lat": 36.062545, "lon": 120.384415, "label": ""}
    assert by_key["update:700000009"].payload["location"]["label"] == "五四广场 山东省青岛市市南区东海西路"
    assert by_key["update:700000016"].payload["choice_id"] == "confirm:submit"
    assert by_key["update:700000018"].payload["event"] == "blocked"
    assert by_key["update:700000019"].payload["event"] == "unblocked"
    assert json.loads(by_key["update:700000001"].raw)["message"]["from"]["username"] == "li_xiaoming"
    # Every message is in the citizen's one conversation, under our bot's id.
    async with tg.services.sessions() as session:
        identity = await IdentityRepository().find(session, "telegram", BOT_ID, CITIZEN)
    assert identity is not None and {r.identity_id for r in by_key.values()} == {identity.id}


async def test_what_the_dialog_cannot_use_gets_a_polite_answer(tg: Tg) -> None:
    for name in ("private_sticker", "private_document_pdf", "private_video"):
        await tg.push(tg.update(name))
    await tg.push(tg.update("private_voice"))
    await tg.deliver()
    texts = tg.fake.texts(CITIZEN)
    assert sum("暂不支持这种消息" in t for t in texts) == 3
    assert sum("暂时无法识别语音" in t for t in texts) == 1


async def test_photos_and_locations_are_attached_and_the_location_button_is_offered(tg: Tg) -> None:
    await tg.say("我要投诉，路灯坏了一个星期了，晚上很危险")
    location_prompt = next(c for c in reversed(tg.fake.sent(CITIZEN)) if "keyboard" in c.markup)
    button = location_prompt.markup["keyboard"][0][0]
    assert button == {"text": "📍 发送位置", "request_location": True}
    assert location_prompt.markup.get("one_time_keyboard") is True

    await tg.push(tg.update("private_photo_with_caption"))
    await tg.push(tg.update("private_venue"))
    await tg.deliver()
    texts = "\n".join(tg.fake.texts(CITIZEN))
    assert "照片已收到（共1张）" in texts
    assert "五四广场" in texts


async def test_commands_deep_links_and_the_users_language(tg: Tg) -> None:
    await tg.push(tg.update("private_command_start_deep_link"))
    await tg.push(tg.update("private_command_my"))
    await tg.deliver()
    texts = tg.fake.texts(CITIZEN)
    assert any("请直接描述" in t for t in texts)
    assert any("您还没有提交过问政" in t for t in texts)

    await tg.push(tg.update("private_text_english_user"))
    await tg.deliver()
    english = tg.fake.texts("5550002")
    assert english and all(not re.search(r"[\u4e00-\u9fff]", t) for t in english)


async def test_blocking_marks_the_citizen_unreachable_and_unblocking_reachable(tg: Tg) -> None:
    answered = len(await tg.say("你好"))
    await tg.push(tg.update("my_chat_member_blocked"))
    assert not await tg.reachable(CITIZEN)
    await tg.push(tg.update("my_chat_member_unblocked"))
    assert await tg.reachable(CITIZEN)
    await tg.deliver()
    assert len(tg.fake.sent(CITIZEN)) == answered  # the events themselves are not answered


# --- authenticity and bad input ----------------------------------------------------------------------


async def test_only_the_exact_secret_token_lets_an_update_in(tg: Tg) -> None:
    update = tg.update("private_text")
    refused = {
        "missing": None,
        "empty": "",
        "wrong": "wz-telegram_secret-9876543210",
        "prefix": SECRET[:-1],
        "longer": SECRET + "0",
        "other case": SECRET.upper(),
        "non-ASCII": SECRET[:-2] + "密钥",
    }
    for case, secret in refused.items():
        assert await tg.post(update, secret=secret) == 403, case
    raw_header = await tg.client.post(
        "/webhooks/telegram",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", SECRET_HEADER: SECRET.encode().decode("latin-1") + "é"},
    )
    assert raw_header.status == 403
    assert await tg.stored() == []
    assert await tg.post(update) == 200
    assert len(await tg.stored()) == 1


async def test_bad_bodies_get_clear_answers_and_never_reach_the_dialog(tg: Tg) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    big = {"update_id": 1, "message": {**payload("private_text")["message"], "text": "长" * 300_000}}
    form = {SECRET_HEADER: SECRET, "Content-Type": "application/x-www-form-urlencoded"}

    def update(update_id: Any = 9, **message: Any) -> bytes:
        return json.dumps({"update_id": update_id, "message": {"message_id": 1, "date": 1, **message}}).encode()

    private = {"id": 5, "type": "private"}
    cases: list[tuple[str, bytes, dict[str, str], int]] = [
        ("oversized", json.dumps(big).encode(), headers, 413),
        ("not JSON", b'{"update_id": 1, "message": ', headers, 400),
        ("deeply nested", b"[" * 100_000, headers, 400),
        ("a list", b"[]", headers, 400),
        ("no update_id", json.dumps({"message": payload("private_text")["message"]}).encode(), headers, 400),
        ("update_id not a number", update("7", chat=private, text="hi"), headers, 400),
        ("message without chat", update(text="hi"), headers, 400),
        ("chat id not a number", update(chat={"id": "x", "type": "private"}, text="hi"), headers, 400),
        ("text not a string", update(chat=private, text=5), headers, 400),
        ("form body", b"update_id=1", form, 415),
    ]
    for case, body, case_headers, status in cases:
        response = await tg.client.post("/webhooks/telegram", data=body, headers=case_headers)
        assert response.status == status, case
    assert await tg.stored() == []
    # An update of a kind we did not ask for is acknowledged and dropped, so Telegram stops sending it.
    user = payload("private_text")["message"]["from"]
    assert (
        await tg.post({"update_id": 5, "inline_query": {"id": "1", "from": user, "query": "路灯", "offset": ""}}) == 200
    )
    assert await tg.post({"update_id": 6}) == 200
    assert await tg.stored() == []


async def test_a_redelivered_update_sends_nothing(tg: Tg) -> None:
    update = tg.update("private_text")
    await tg.push(update)
    await tg.deliver()
    sent = len(tg.fake.sent(CITIZEN))
    assert sent >= 1
    await tg.push(update)
    await tg.deliver()
    assert len(tg.fake.sent(CITIZEN)) == sent
    assert len(await tg.stored()) == 1

    press = tg.update("callback_query_confirm_submit")
    press["callback_query"]["message"] = tg.message_with(CITIZEN, "confirm:submit")
    await tg.push(press)
    await tg.push(press)
    await tg.deliver()
    assert len(tg.fake.called("answerCallbackQuery")) == 1
    assert len(tg.fake.called("editMessageReplyMarkup")) == 1
    async with tg.services.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Ticket))).scalar_one() == 1


async def test_storage_down_is_503_and_the_redelivery_goes_through(tg: Tg, tmp_path: Path) -> None:
    update = tg.update("private_text")
    database = tmp_path / "wenzheng.db"
    await tg.services.dispose_databases()
    moved = tmp_path / "moved.db"
    shutil.move(database, moved)
    database.mkdir()  # SQLite cannot open a directory: every query fails
    try:
        assert await tg.post(update) == 503
    finally:
        database.rmdir()
        shutil.move(moved, database)
    await tg.services.dispose_databases()
    assert await tg.post(update) == 200
    await tg.deliver()
    assert len(await tg.stored()) == 1 and tg.fake.sent(CITIZEN)


# --- sending within Telegram's rules ------------------------------------------------------------------


async def queue(tg: Tg, ref: ConversationRef, *messages: Outbound) -> None:
    async with tg.services.sessions.begin() as session:
        for message in messages:
            await tg.services.outbox.enqueue(session, ref, message, tg.clock())


async def test_429_waits_retry_after_and_delivers_once(tg: Tg) -> None:
    tg.fake.fail("sendMessage", 429, chat_id=CITIZEN, retry_after=7)
    await tg.push(tg.update("private_text"))
    await tg.services.worker.drain()
    first = tg.fake.attempts(CITIZEN)
    assert [c.status for c in first] == [429]
    tg.clock.advance(seconds=6.9)
    await tg.services.worker.drain()
    assert len(tg.fake.attempts(CITIZEN)) == 1  # not before retry_after
    await tg.deliver()
    attempts = tg.fake.attempts(CITIZEN)
    assert attempts[1].status == 200 and attempts[1].text == first[0].text
    assert (attempts[1].at - first[0].at).total_seconds() >= 7
    assert [c.text for c in tg.fake.sent(CITIZEN)].count(first[0].text) == 1


async def test_403_marks_the_citizen_unreachable_without_retrying(tg: Tg) -> None:
    number = await tg.file()
    tg.fake.block(CITIZEN)
    card = tg.fake.sent(GROUP)[0]
    await tg.push(tg.update("group_reply_to_card", reply_to_message=card.result))
    await tg.deliver()
    refused = [c.text for c in tg.fake.attempts(CITIZEN) if c.status == 403]
    assert refused and len(refused) == len(set(refused))  # each queued push tried once, none again
    assert any(number in text for text in refused)
    assert not await tg.reachable(CITIZEN)
    tg.clock.advance(hours=1)
    await tg.deliver()
    assert len([c for c in tg.fake.attempts(CITIZEN) if c.status == 403]) == len(refused)
    async with tg.services.sessions() as session:
        stmt = select(OutboxMessage.status).where(OutboxMessage.chat_id == CITIZEN, OutboxMessage.status != "sent")
        assert set((await session.execute(stmt)).scalars()) == {"dead"}


async def test_5xx_is_retried_with_backoff_and_400_is_not(tg: Tg) -> None:
    ref = ConversationRef("telegram", BOT_ID, CITIZEN)
    tg.fake.fail("sendMessage", 502, chat_id=CITIZEN, times=2)
    await queue(tg, ref, Outbound("状态更新"))
    await tg.deliver()
    assert [c.status for c in tg.fake.attempts(CITIZEN)] == [502, 502, 200]

    tg.clock.advance(seconds=2)
    tg.fake.fail("sendMessage", 400, chat_id=CITIZEN, description="Bad Request: chat not found")
    await queue(tg, ref, Outbound("不会送达"))
    await tg.deliver()
    assert [c.status for c in tg.fake.attempts(CITIZEN)][-1] == 400
    async with tg.services.sessions() as session:
        row = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()))).scalars().first()
    assert (
        row is not None
        and row.status == "dead"
        and row.attempts == 1
        and "chat not found" in (row.last_error or "").lower()
    )


async def test_a_burst_to_one_chat_goes_out_one_per_second_in_order(tg: Tg) -> None:
    ref = ConversationRef("telegram", BOT_ID, CITIZEN)
    await queue(tg, ref, *(Outbound(f"第{i}条") for i in range(1, 7)))
    await tg.deliver()
    sent = tg.fake.sent(CITIZEN)
    assert [c.text for c in sent] == [f"第{i}条" for i in range(1, 7)]
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(sent)]
    assert all(gap >= 1.0 for gap in gaps) and max(gaps) < 2.5


async def test_a_group_gets_at_most_twenty_a_minute_and_the_bot_thirty_a_second(tg: Tg) -> None:
    group = ConversationRef("telegram", "staff", GROUP)
    await queue(tg, group, *(Outbound(f"卡片{i}") for i in range(1, 26)))
    for n in range(40):
        await queue(tg, ConversationRef("telegram", BOT_ID, str(6_000_000 + n)), Outbound("通知"))
    await tg.deliver()
    cards = tg.fake.sent(GROUP)
    assert [c.text for c in cards] == [f"卡片{i}" for i in range(1, 26)]
    assert (cards[20].at - cards[0].at).total_seconds() >= 60
    assert len(tg.fake.sent()) == 65
    async with tg.services.sessions() as session:
        dead = (await session.execute(select(func.count()).where(OutboxMessage.status == "dead"))).scalar_one()
    assert dead == 0  # waiting for a turn never uses up a message's attempts


async def test_a_long_answer_is_split_and_each_part_sent_once(tg: Tg) -> None:
    ref = ConversationRef("telegram", BOT_ID, CITIZEN)
    long_text = "\n".join(f"第{i}段：" + "答复内容" * 60 for i in range(40))  # about 10 000 characters
    await queue(tg, ref, Outbound(long_text))
    await tg.services.worker.drain()  # the first part goes; the second waits its turn
    assert len(tg.fake.sent(CITIZEN)) == 1
    tg.fake.fail("sendMessage", 502, chat_id=CITIZEN, times=1)  # and then fails once
    await tg.deliver()
    assert [c.status for c in tg.fake.attempts(CITIZEN)] == [200, 502, 200, 200]
    sent = tg.fake.sent(CITIZEN)
    assert len(sent) == 3 and "".join(c.text for c in sent).replace("\n", "") == long_text.replace("\n", "")
    assert all(len(c.text) <= 4096 for c in sent)


# --- polling, set-up, configuration -------------------------------------------------------------------


async def test_polling_feeds_the_same_dispatcher(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    import asyncio

    world = await start(aiohttp_server, aiohttp_client, tmp_path, mode="polling", secret="")
    world.fake.webhook = {"url": "https://old.example/webhooks/telegram"}
    first = payload("private_text")
    world.fake.queue_update(first)
    world.fake.queue_update(first)  # Telegram may hand an update out twice
    stop = asyncio.Event()
    task = asyncio.create_task(world.channel.run(stop))
    for _ in range(200):
        if await world.stored() and len(world.fake.called("getUpdates")) >= 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 2)
    assert world.fake.webhook is None  # deleteWebhook, keeping the queued updates
    offsets = [c.params.get("offset") for c in world.fake.called("getUpdates")]
    assert offsets[0] is None and offsets[-1] == first["update_id"] + 1
    await world.deliver()
    assert len(await world.stored()) == 1 and world.fake.sent(CITIZEN)
    # In polling mode the webhook refuses everything: there is no secret to check.
    assert await world.post(payload("private_text"), secret="") == 403
    assert world.fake.violations == []


async def test_webhook_mode_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="secret_token: required in webhook mode"):  # caught by the config
        telegram_config(tmp_path, "http://127.0.0.1:9", secret="")
    config = telegram_config(tmp_path, "http://127.0.0.1:9")
    bad_token = config.channels.model_copy(
        update={
            "telegram": config.channels.telegram.model_copy(update={"token": "not-a-token", "secret_token": SECRET})
        }
    )
    with pytest.raises(ConfigError, match="token"):
        build_app(config.model_copy(update={"channels": bad_token}))


async def test_set_webhook_registers_url_secret_updates_and_both_command_menus(
    aiohttp_server: ServerFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from bot import wire_telegram

    fake = FakeTelegramAPI(Clock(), TOKEN)
    api = await aiohttp_server(fake.app())
    config = telegram_config(tmp_path, str(api.make_url("")))
    config = config.model_copy(
        update={"server": config.server.model_copy(update={"public_url": "https://wenzheng.example.gov.cn/"})}
    )
    parser = argparse.ArgumentParser()
    wire_telegram.register_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["telegram", "set-webhook"])
    assert await wire_telegram.run_cli(args, config) == 0
    assert fake.webhook is not None
    assert fake.webhook["url"] == "https://wenzheng.example.gov.cn/webhooks/telegram"
    assert fake.webhook["secret_token"] == SECRET
    assert fake.webhook["allowed_updates"] == ["message", "edited_message", "callback_query", "my_chat_member"]
    for language in (None, "zh", "en"):
        assert [c["command"] for c in fake.commands[language]] == ["start", "new", "my", "cancel", "help", "lang"]
    assert (
        fake.commands["zh"][0]["description"] == "开始问政"
        and fake.commands["en"][0]["description"] == "Start an inquiry"
    )
    assert "@WenzhengBot" in capsys.readouterr().out

    http_only = config.model_copy(
        update={"server": config.server.model_copy(update={"public_url": "http://x.example"})}
    )
    assert await wire_telegram.run_cli(args, http_only) == 2
    assert "https://" in capsys.readouterr().err
    fake.fail("setWebhook", 400, description="Bad Request: bad webhook: Failed to resolve host")
    assert await wire_telegram.run_cli(args, config) == 1
    assert "failed to resolve host" in capsys.readouterr().err.lower()
