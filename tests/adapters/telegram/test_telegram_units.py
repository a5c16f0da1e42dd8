"""The Telegram channel's pure parts (rendering, splitting, the flood limiter) and its error mapping.

The rendering and limiter tests need no server. The error-mapping tests build the real
``TelegramChannel`` against the fake Bot API (or a closed port) without the rest of the service,
so each Bot API answer is checked against the exact ``SendError`` the outbox acts on.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup

from adapters.base import (
    Choice,
    ConversationRef,
    DeliveryContext,
    Handled,
    Inbound,
    Outbound,
    RecipientUnreachable,
    SendError,
)
from adapters.telegram.channel import TelegramChannel
from adapters.telegram.client import bot_id_from_token
from adapters.telegram.limits import Limits, SendLimiter
from adapters.telegram.render import (
    MAX_TEXT,
    button_label,
    mark_choice,
    render,
    split_text,
    utf16_len,
)
from adapters.telegram.send import Throttled
from tests.adapters.telegram.fake_api import FakeTelegramAPI
from tests.app_helpers import Clock

TOKEN = "123456:TEST-fake_token-for-wenzheng"
ServerFactory = Callable[..., Awaitable[TestServer]]
# PTB's own RetryAfter constructor reads its deprecated int ``retry_after``; nothing to act on here.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

# --- rendering ----------------------------------------------------------------------------------------


def test_texts_are_split_within_4096_utf16_units_at_natural_breaks() -> None:
    assert split_text("短") == ["短"]
    exact = "路" * MAX_TEXT
    assert split_text(exact) == [exact]
    paragraphs = "\n\n".join("答复" * 900 for _ in range(3))  # 3 × 1800 characters
    pieces = split_text(paragraphs)
    assert len(pieces) == 2 and all(utf16_len(p) <= MAX_TEXT for p in pieces)
    assert pieces[0].endswith("答复") and "".join(pieces).replace("\n", "") == paragraphs.replace("\n", "")
    emoji = "😀" * 3000  # two UTF-16 units each: 6000 units
    parts = split_text(emoji)
    assert [utf16_len(p) for p in parts] == [4096, 1904] and "".join(parts) == emoji
    unbroken = "x" * 9000
    assert [len(p) for p in split_text(unbroken)] == [4096, 4096, 808]


def test_choices_become_an_inline_keyboard_on_the_last_part() -> None:
    rating = Outbound("请评价：", choices=tuple(Choice(f"rate:WZ20261122-0007:{n}", n * "好") for n in (1, 2, 3)))
    (part,) = render(rating, private=True)
    assert isinstance(part.markup, InlineKeyboardMarkup)
    assert [[b.callback_data for b in row] for row in part.markup.inline_keyboard] == [
        ["rate:WZ20261122-0007:1", "rate:WZ20261122-0007:2", "rate:WZ20261122-0007:3"]
    ]
    topics = Outbound("选择领域", choices=tuple(Choice(f"topic:{i}", f"领域{i}") for i in range(7)))
    rows = render(topics, private=True)[0].markup
    assert isinstance(rows, InlineKeyboardMarkup) and [len(r) for r in rows.inline_keyboard] == [2, 2, 2, 1]
    long = Outbound("x" * 5000, choices=(Choice("a", "A"),))
    parts = render(long, private=False)
    assert len(parts) == 2 and parts[0].markup is None and parts[1].markup is not None


def test_an_id_too_long_for_callback_data_degrades_to_numbered_text() -> None:
    message = Outbound("请选择", choices=(Choice("x" * 65, "甲"), Choice("ok", "乙")))
    (part,) = render(message, private=True)
    assert part.markup is None and part.text == "请选择\n\n1. 甲\n2. 乙"
    assert render(Outbound("多字节", choices=(Choice("选" * 22, "甲"),)), private=True)[0].markup is None  # 66 bytes


def test_location_requests_are_a_reply_keyboard_in_private_chats_only() -> None:
    ask = Outbound("请发送位置或输入地址", choices=(Choice("skip", "跳过"),), request_location=True)
    (private,) = render(ask, private=True)
    assert isinstance(private.markup, ReplyKeyboardMarkup)
    first, second = private.markup.keyboard
    assert first[0].text == "📍 发送位置" and first[0].request_location and second[0].text == "跳过"
    english = render(Outbound("Share the place", request_location=True), private=True)[0].markup
    assert isinstance(english, ReplyKeyboardMarkup) and english.keyboard[0][0].text == "📍 Share location"
    (group,) = render(ask, private=False)
    assert isinstance(group.markup, InlineKeyboardMarkup)  # no location button in groups
    assert render(Outbound("", choices=(Choice("a", "A"),)), private=True)[0].text == "…"


def test_the_pressed_button_is_marked_once() -> None:
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("接单", callback_data="staff:claim:X"),
                InlineKeyboardButton("查看", callback_data="staff:show:X"),
            ]
        ]
    )
    marked = mark_choice(markup, "staff:claim:X")
    assert marked is not None and [b.text for b in marked.inline_keyboard[0]] == ["✓ 接单", "查看"]
    assert mark_choice(marked, "staff:claim:X") is None  # unchanged: no edit (Telegram would answer 400)
    moved = mark_choice(marked, "staff:show:X")
    assert moved is not None and [b.text for b in moved.inline_keyboard[0]] == ["接单", "✓ 查看"]
    assert button_label(moved, "staff:show:X") == "查看" and button_label(None, "x") == ""


# --- the limiter --------------------------------------------------------------------------------------


@dataclass
class Time:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_chat_gets_one_message_a_second_in_the_order_they_came() -> None:
    t = Time()
    limiter = SendLimiter(t)
    assert limiter.wait_for("1", "a", group=False) == 0.0
    assert limiter.wait_for("1", "b", group=False) == pytest.approx(1.0)
    assert limiter.wait_for("1", "c", group=False) == pytest.approx(2.0)
    assert limiter.wait_for("2", "x", group=False) == 0.0  # other chats are not held up
    t.now += 1.0
    assert limiter.wait_for("1", "c", group=False) > 0  # c came back early: b is still ahead of it
    assert limiter.wait_for("1", "b", group=False) == 0.0
    t.now += 1.0
    assert limiter.wait_for("1", "d", group=False) > 0  # a newcomer queues behind c
    assert limiter.wait_for("1", "c", group=False) == 0.0


def test_a_delivery_that_never_comes_back_loses_its_place() -> None:
    t = Time()
    limiter = SendLimiter(t, Limits(grace=5.0))
    limiter.wait_for("1", "a", group=False)
    limiter.wait_for("1", "b", group=False)  # waits; then another worker sends it
    t.now += 10.0
    assert limiter.wait_for("1", "c", group=False) == 0.0


def test_groups_get_twenty_a_minute_and_everyone_thirty_a_second() -> None:
    t = Time()
    limiter = SendLimiter(t)
    for n in range(20):
        assert limiter.wait_for("-100", f"g{n}", group=True) == 0.0, n
        t.now += 1.0
    assert limiter.wait_for("-100", "g20", group=True) == pytest.approx(40.0)  # the first one leaves the minute
    t.now += 40.0
    assert limiter.wait_for("-100", "g20", group=True) == 0.0

    busy = SendLimiter(Time())
    assert all(busy.wait_for(str(n), f"m{n}", group=False) == 0.0 for n in range(30))
    assert busy.wait_for("31", "m31", group=False) == pytest.approx(1.0)


def test_flood_control_holds_the_chat_and_keeps_the_message_first() -> None:
    t = Time()
    limiter = SendLimiter(t)
    assert limiter.wait_for("1", "a", group=False) == 0.0
    limiter.keep_front("1", "a", pause=7.0)  # Telegram answered 429, retry_after 7
    assert limiter.wait_for("1", "b", group=False) == pytest.approx(8.0)
    t.now += 7.0
    assert limiter.wait_for("1", "a", group=False) == 0.0


# --- the channel's answers to Bot API errors ------------------------------------------------------------


@dataclass
class Sink:
    seen: list[Inbound] = field(default_factory=list)

    async def handle(self, inbound: Inbound, *, inline: bool = True, **_: Any) -> Handled:
        self.seen.append(inbound)
        return Handled(())


def channel(api_url: str, clock: Clock) -> TelegramChannel:
    return TelegramChannel(
        token=TOKEN, secret_token="s", api_base_url=api_url, sink=Sink(), clock=clock, max_body_bytes=65536
    )


async def test_bot_api_errors_map_to_what_the_outbox_does(aiohttp_server: ServerFactory) -> None:
    clock = Clock()
    fake = FakeTelegramAPI(clock, TOKEN)
    api = await aiohttp_server(fake.app())
    tg = channel(str(api.make_url("")), clock)
    context = DeliveryContext(now=clock())
    cases: list[tuple[dict[str, Any], type[SendError], bool, str]] = [
        ({"status": 429, "retry_after": 12}, SendError, True, "retry after 12"),
        ({"status": 403}, RecipientUnreachable, False, "blocked by the user"),
        ({"status": 400}, SendError, False, "chat not found"),
        ({"status": 500}, SendError, True, "internal server error"),
        ({"status": 502}, SendError, True, "bad gateway"),
        ({"status": 400, "migrate_to": -1009999}, SendError, False, "supergroup -1009999"),
    ]
    try:
        for n, (failure, kind, retryable, says) in enumerate(cases):
            chat = str(7000 + n)
            fake.fail("sendMessage", failure.pop("status"), chat_id=chat, **failure)
            with pytest.raises(kind) as raised:
                await tg.send(ConversationRef("telegram", "123456", chat), Outbound("hi"), f"d{n}", context)
            assert raised.value.retryable is retryable, says
            assert says in str(raised.value).lower(), str(raised.value)
            if "retry_after" in failure:
                assert raised.value.retry_after == 12
    finally:
        await tg.close()


async def test_a_throttled_send_calls_nothing_and_says_when_to_come_back(aiohttp_server: ServerFactory) -> None:
    clock = Clock()
    fake = FakeTelegramAPI(clock, TOKEN)
    api = await aiohttp_server(fake.app())
    tg = channel(str(api.make_url("")), clock)
    ref = ConversationRef("telegram", "123456", "42")
    context = DeliveryContext(now=clock())
    try:
        assert await tg.send(ref, Outbound("one"), "1", context) == "101"
        with pytest.raises(Throttled) as held:
            await tg.send(ref, Outbound("two"), "2", context)
        assert held.value.retryable and held.value.retry_after == pytest.approx(1.0)
        assert len(fake.calls) == 1
        clock.advance(seconds=1)
        assert await tg.send(ref, Outbound("two"), "2", context) == "102"
    finally:
        await tg.close()
    assert fake.violations == []


async def test_an_unreachable_api_is_a_retryable_failure() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before use: nothing listens there
    clock = Clock()
    tg = channel(f"http://127.0.0.1:{port}", clock)
    try:
        with pytest.raises(SendError) as raised:
            await tg.send(ConversationRef("telegram", "123456", "1"), Outbound("hi"), "1", DeliveryContext(now=clock()))
    finally:
        await tg.close()
    assert raised.value.retryable and not isinstance(raised.value, RecipientUnreachable)


def test_the_bot_id_comes_from_the_token() -> None:
    assert bot_id_from_token("123456:AA-bb_CC") == "123456"
    with pytest.raises(ValueError):
        bot_id_from_token("123456")
