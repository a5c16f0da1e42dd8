"""The hostile values an attack run found, one by one, on SQLite and PostgreSQL (issue 12, item 4).

A lone surrogate (escaped ``\\ud800`` or raw CESU-8 bytes) or NUL in a citizen's text used to give
500 on SQLite and an endless 503 on PostgreSQL (the database refusing the statement was taken for an
outage); a coordinate written as a 401-digit integer gave 500; a Telegram ``update_id`` over 255
digits overflowed on PostgreSQL. Each must be stored cleaned (the rest of the words kept) or refused
with 400, and the channel must go on working. The generated payloads are in ``test_fuzz_*.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.adapters import hostile
from tests.adapters.hostile import CITIZEN_TG, CITIZEN_WEIBO, WEIBO_ACCOUNT, Endpoint, as_json
from tests.adapters.wechat.fake_api import ACCOUNT

HUGE = int("1" + "0" * 400)
# (as sent inside a JSON string, as stored)
ODD_TEXTS = [
    ("路灯\ud800坏了", "路灯\ufffd坏了"),
    ("路灯\udfff\ud800坏了", "路灯\ufffd\ufffd坏了"),
    ("路灯\u0000坏了", "路灯坏了"),
    ("路灯\x07\x1b坏了\r\n第二行\t", "路灯坏了\n第二行\t"),
]
Build = Callable[[AsyncExitStack, Path, str | None], Awaitable[Endpoint]]


async def check_stored_cleaned(endpoint: Endpoint, send: Callable[[str], Awaitable[int]]) -> None:
    for sent, stored in ODD_TEXTS:
        assert await send(sent) == 200, repr(sent)
        assert (await endpoint.texts())[-1] == stored
    assert await endpoint.ordinary("路灯坏了") == 200


# --- web chat --------------------------------------------------------------------------------------


async def test_webchat_odd_characters_are_stored_cleaned(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    async with AsyncExitStack() as stack:
        chat = await hostile.webchat(stack, tmp_path, database_url)
        await check_stored_cleaned(chat, chat.ordinary)
        # Raw CESU-8 (a surrogate encoded as if it were a character): Python's JSON reader lets it in.
        assert await chat.post(b'{"id": "cesu-0000001", "text": "\xed\xa0\x80\xe8\xb7\xaf"}') == 200
        assert (await chat.texts())[-1] == "\ufffd路"


async def test_webchat_impossible_coordinates_are_400(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        chat = await hostile.webchat(stack, tmp_path)
        for lat, lon in [(HUGE, 120), (36, -HUGE), (float("nan"), 120), (36, float("inf")), ("1e400", 1), (True, 1)]:
            body = as_json({"id": "pin-00000001", "location": {"lat": lat, "lon": lon}})
            assert await chat.post(body) == 400, (lat, lon)
        assert await chat.post(b'{"id": "pin-00000001", "location": {"lat": 1e400, "lon": 1}}') == 400
        assert await chat.ordinary("路灯坏了") == 200


# --- Telegram --------------------------------------------------------------------------------------


def tg_update(update_id: Any = 900_000_001, chat_id: Any = CITIZEN_TG, **message: Any) -> dict[str, Any]:
    user = {"id": CITIZEN_TG, "is_bot": False, "first_name": "小明"}
    chat = {"id": chat_id, "type": "private"}
    return {
        "update_id": update_id,
        "message": {"message_id": 7, "from": user, "chat": chat, "date": 1795334400, **message},
    }


async def test_telegram_odd_characters_are_stored_cleaned(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    async with AsyncExitStack() as stack:
        tg = await hostile.telegram(stack, tmp_path, database_url)
        ids = iter(range(1, 100))

        async def send(text: str) -> int:
            return await tg.post(as_json(tg_update(next(ids), text=text)))

        await check_stored_cleaned(tg, send)
        cesu = b'{"update_id": 77, "message": {"message_id": 7, "chat": {"id": 5550001, "type": "private"}, '
        cesu += b'"date": 1795334400, "text": "\xed\xa0\x80!"}}'
        assert await tg.post(cesu) == 200
        assert (await tg.texts())[-1] == "\ufffd!"


async def test_telegram_impossible_numbers_are_400(tmp_path: Path, database_url: str, engine: AsyncEngine) -> None:
    async with AsyncExitStack() as stack:
        tg = await hostile.telegram(stack, tmp_path, database_url)
        cases = [
            tg_update(int("9" * 256), text="hi"),  # overflowed the message key on PostgreSQL
            tg_update(2**63, text="hi"),
            tg_update(-(2**63) - 1, text="hi"),
            tg_update(5, chat_id=int("1" * 300), text="hi"),
            tg_update(6, location={"latitude": HUGE, "longitude": 120.0}),
            tg_update(7, location={"latitude": 36.0, "longitude": -HUGE}),
            tg_update(8, location={"latitude": 91.0, "longitude": 120.0}),
            tg_update(9, location={"latitude": float("nan"), "longitude": 120.0}),
        ]
        for case in cases:
            assert await tg.post(as_json(case)) == 400, case
        assert await tg.texts() == []
        assert await tg.post(as_json(tg_update(2**63 - 1, text="最大的 id"))) == 200
        assert await tg.ordinary("路灯坏了") == 200


# --- Weibo ------------------------------------------------------------------------------------------


def weibo_push(kind: str = "text", text: str = "", data: Any = None, created_at: str = "1") -> dict[str, Any]:
    return {
        "type": kind,
        "receiver_id": WEIBO_ACCOUNT,
        "sender_id": CITIZEN_WEIBO,
        "created_at": created_at,
        "text": text,
        "data": data or {},
    }


async def test_weibo_odd_characters_are_stored_cleaned(tmp_path: Path, database_url: str, engine: AsyncEngine) -> None:
    async with AsyncExitStack() as stack:
        wb = await hostile.weibo(stack, tmp_path, database_url)
        stamps = iter(range(1, 100))

        async def send(text: str) -> int:
            return await wb.post(as_json(weibo_push(text=text, created_at=str(next(stamps)))))

        await check_stored_cleaned(wb, send)
        # A surrogate in a field that is hashed into the message key, and in ``data``.
        assert await wb.post(as_json(weibo_push(text="好", created_at="\ud800", data={"x": "\u0000\ud800"}))) == 200


async def test_weibo_impossible_coordinates_are_400(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        wb = await hostile.weibo(stack, tmp_path)
        for lat, lon in [(HUGE, "120.1"), ("36.1", -HUGE), ("nan", "120"), ("36", "inf"), ("1" + "0" * 400, "1")]:
            push = weibo_push("position", data={"latitude": lat, "longitude": lon})
            assert await wb.post(as_json(push)) == 400, (lat, lon)
        assert await wb.ordinary("路灯坏了") == 200


# --- WeChat -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("safe", [True, False], ids=["safe", "plain"])
async def test_wechat_odd_bytes_and_coordinates_never_500(tmp_path: Path, safe: bool) -> None:
    """XML cannot carry NUL or surrogates (expat refuses them): 400; coordinates as WeChat's strings."""
    async with AsyncExitStack() as stack:
        wx = await hostile.wechat(stack, tmp_path, safe=safe)
        head = f"<xml><ToUserName>{ACCOUNT}</ToUserName><FromUserName>{hostile.CITIZEN_WECHAT}</FromUserName>"
        head += "<CreateTime>1795334400</CreateTime>"
        cases = {
            b"<MsgType>text</MsgType><Content>\xed\xa0\x80</Content><MsgId>1</MsgId>": 400,
            b"<MsgType>text</MsgType><Content>&#xD800;</Content><MsgId>2</MsgId>": 400,
            b"<MsgType>text</MsgType><Content>&#0;</Content><MsgId>3</MsgId>": 400,
            b"<MsgType>text</MsgType><Content>a\x00b</Content><MsgId>4</MsgId>": 400,
            b"<MsgType>location</MsgType><Location_X>1" + b"0" * 400 + b"</Location_X><Location_Y>1</Location_Y>"
            b"<MsgId>5</MsgId>": 400,
            b"<MsgType>location</MsgType><Location_X>nan</Location_X><Location_Y>1</Location_Y><MsgId>6</MsgId>": 400,
        }
        for tail, status in cases.items():
            assert await wx.post(head.encode() + tail + b"</xml>") == status, tail
        assert await wx.ordinary("路灯坏了") == 200


async def test_telegram_button_press_on_a_keyboard_with_a_non_text_label_is_taken(tmp_path: Path) -> None:
    """Found by the fuzz test: marking the pressed button raised after the press was stored (500)."""
    async with AsyncExitStack() as stack:
        tg = await hostile.telegram(stack, tmp_path)
        keyboard = [[{"text": "提交", "callback_data": "confirm:submit"}, {"text": -4, "callback_data": "x"}]]
        message = tg_update(1)["message"] | {"reply_markup": {"inline_keyboard": keyboard}}
        user = {"id": CITIZEN_TG, "is_bot": False, "first_name": "小明"}
        query = {"id": "1", "from": user, "message": message, "chat_instance": "-1", "data": "confirm:submit"}
        assert await tg.post(as_json({"update_id": 42, "callback_query": query})) == 200
        assert await tg.ordinary("路灯坏了") == 200


async def test_telegram_photo_sizes_that_are_not_numbers_are_refused_without_multiplying_them(tmp_path: Path) -> None:
    """``width * height`` of "路灯" and a 401-digit number raised OverflowError (or ate the memory)."""
    async with AsyncExitStack() as stack:
        tg = await hostile.telegram(stack, tmp_path)
        sizes = [
            {"file_id": "a", "file_unique_id": "a", "width": "路灯", "height": HUGE},
            {"file_id": "b", "file_unique_id": "b", "width": [1], "height": 2**63},
            {"file_id": "c", "file_unique_id": "c", "width": "x" * 1000, "height": 10**9},
        ]
        for update_id, size in enumerate(sizes, start=1):
            assert await tg.post(as_json(tg_update(update_id, photo=[size]))) == 400, size
        fine = {"file_id": "d", "file_unique_id": "d", "width": 90, "height": 60}
        assert await tg.post(as_json(tg_update(9, photo=[fine]))) == 200
