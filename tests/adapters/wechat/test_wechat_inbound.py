"""WeChat message push into the real app: recorded payloads, authentication, bad input, timing.

WeChat's side is played by ``tests.adapters.wechat.fake_api.WechatPush`` (signing, and in 安全模式
encrypting with wechatpy's ``WeChatCrypto``, then decrypting and checking our reply); the
official-account API is the fake on loopback. Nothing in the channel is patched.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis
from sqlalchemy import func, select

from adapters.base import Choice, ConversationRef, DeliveryContext, Outbound, Purpose
from adapters.wechat.xml import cdata, parse_fields, text_reply
from storage.identities import IdentityRepository
from storage.models import InboundMessage, OutboxMessage, Ticket
from tests.adapters.wechat.fake_api import (
    ACCOUNT,
    TOKEN,
    ClientFactory,
    WechatPush,
    WechatWorld,
    message_xml,
    payload,
    sign,
    start_world,
    text_xml,
)
from tests.hanging_db import hangs_after_the_message_is_stored

CITIZEN = "oZx8s5Lk2mQ9pR3tV6wY1bN4cF7h"  # the sender in the recorded payloads
RICH = "青岛市市南区香港中路的路灯坏了一个星期了，晚上很危险"
ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture
async def world(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path
) -> AsyncIterator[WechatWorld]:
    """安全模式, a status template configured."""
    built = await start_world(aiohttp_server, aiohttp_client, tmp_path)
    yield built
    await built.close()


@pytest.fixture
async def plain(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path
) -> AsyncIterator[WechatWorld]:
    """明文模式: no EncodingAESKey configured."""
    built = await start_world(aiohttp_server, aiohttp_client, tmp_path, safe=False)
    yield built
    await built.close()


async def stored(world: WechatWorld, key: str) -> InboundMessage | None:
    async with world.services.sessions() as session:
        found = await session.execute(select(InboundMessage).where(InboundMessage.message_key == key))
        return found.scalar_one_or_none()


async def count(world: WechatWorld, model: Any) -> int:
    async with world.services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


# --- every recorded message and event ----------------------------------------------------------------

# payload file: (message_key, kind, text, payload checks, what the passive reply starts with; None: "success")
RECORDED: dict[str, tuple[str, str, str, dict[str, Any], str | None]] = {
    "text": ("24500000000000001", "text", RICH, {}, "请确认您的问政内容"),
    "image": (
        "24500000000000003",
        "image",
        "",
        {
            "media": [
                {
                    "kind": "image",
                    "ref": "Vq8m2Xk5Lp9Rt3Wy6Zb1Nc4Fh7Jd0Gs2Ha5Ke8Mn1Pq4St7Uv0Wx3Yz6Ab9Cd2Ef",
                    "url": "http://mmbiz.qpic.cn/mmbiz_jpg/Xq3bQ1Kx9sWc0fT2vY8nLh5gR7dM4pJ6/0",
                }
            ]
        },
        "",
    ),
    "voice_with_recognition": ("24500000000000004", "voice", "小区门口的井盖丢了，很危险。", {}, ""),
    "voice_without_recognition": ("24500000000000005", "voice", "", {}, "暂时无法识别语音，请用文字描述。"),
    "location": (
        "24500000000000006",
        "location",
        "",
        {"location": {"lat": 36.066812, "lon": 120.38264, "label": "山东省青岛市市南区香港中路"}},
        "",
    ),
    "link": ("24500000000000007", "unsupported", "", {}, "暂不支持这种消息"),
    "video": ("24500000000000008", "unsupported", "", {}, "暂不支持这种消息"),
    "shortvideo": ("24500000000000009", "unsupported", "", {}, "暂不支持这种消息"),
    "file": ("24500000000000010", "unsupported", "", {}, "暂不支持这种消息"),
    "event_subscribe": (
        f"{CITIZEN}:1795334410:subscribe",
        "event",
        "",
        {"event": "subscribe"},
        "您好，这里是政务服务问政平台",
    ),
    "event_subscribe_qrscene": (
        f"{CITIZEN}:1795334411:subscribe",
        "event",
        "",
        {"event": "subscribe"},
        "您好，这里是政务服务问政平台",
    ),
    "event_scan": (f"{CITIZEN}:1795334412:SCAN", "event", "", {"event": "scan"}, None),
    "event_click_new": (f"{CITIZEN}:1795334414:CLICK", "text", "我要问政", {}, "您好，这里是政务服务问政平台"),
    "event_click_my": (f"{CITIZEN}:1795334415:CLICK", "text", "我的问政", {}, ""),
    "event_click_help": (f"{CITIZEN}:1795334416:CLICK", "text", "帮助", {}, "直接描述问题即可开始问政"),
    "event_view": (f"{CITIZEN}:1795334417:VIEW", "event", "", {"event": "view"}, None),
    "event_location": (
        f"{CITIZEN}:1795334418:LOCATION",
        "event",
        "",
        {"event": "location_hint", "location": {"lat": 36.066812, "lon": 120.38264, "label": ""}},
        None,
    ),
    "event_templatesendjobfinish": (
        f"{CITIZEN}:1795334419:TEMPLATESENDJOBFINISH",
        "event",
        "failed:user block",
        {"event": "template_send_finished"},
        None,
    ),
    "event_unsubscribe": (f"{CITIZEN}:1795334413:unsubscribe", "event", "", {"event": "unsubscribe"}, None),
}


async def test_every_recorded_message_and_event_becomes_the_right_inbound(world: WechatWorld) -> None:
    for name, (key, kind, text, checks, reply) in RECORDED.items():  # unsubscribe last: it stops pushes
        answer = await world.push.send(payload(name))
        assert answer.status == 200, (name, answer.body)
        row = await stored(world, key)
        assert row is not None, name
        assert (row.kind, row.text) == (kind, text), name
        assert row.payload["sender_id"] == CITIZEN, name
        for field, expected in checks.items():
            assert row.payload[field] == expected, (name, field, row.payload[field])
        assert "<xml>" in row.raw and "Encrypt" not in row.raw, name  # raw is the decrypted push
        if reply is None:
            assert answer.success, (name, answer.body)
        else:
            assert answer.encrypted and answer.text.startswith(reply), (name, answer.text)
            assert (answer.fields["ToUserName"], answer.fields["FromUserName"]) == (CITIZEN, ACCOUNT)
            assert answer.fields["MsgType"] == "text"
    qrscene = await stored(world, f"{CITIZEN}:1795334411:subscribe")
    assert qrscene is not None and "qrscene_shinan_street_poster" in qrscene.raw  # the source is kept
    async with world.services.sessions() as session:
        identity = await IdentityRepository().find(session, "wechat", ACCOUNT, CITIZEN)
    assert identity is not None and identity.reachable is False  # unsubscribed: no more pushes


async def test_a_tap_on_a_menu_we_sent_comes_back_as_that_choice(world: WechatWorld) -> None:
    world.api.user_acted(CITIZEN)
    rating = Outbound(
        "请对问政WZ20261122-0001的答复进行评价：",
        choices=tuple(
            Choice(f"rate:WZ20261122-0001:{n}", label) for n, label in ((1, "满意"), (2, "基本满意"), (3, "不满意"))
        ),
        purpose=Purpose.RATING,
    )
    ref = ConversationRef("wechat", ACCOUNT, CITIZEN)
    await world.channel.send(ref, rating, "42", DeliveryContext(now=world.clock(), last_inbound_at=world.clock()))
    assert [i["id"] for i in world.api.custom[-1]["msgmenu"]["list"]] == ["4201", "4202", "4203"]

    answer = await world.push.send(payload("text_msgmenu_tap"))  # 满意, bizmsgmenuid 4201
    assert answer.status == 200
    row = await stored(world, "24500000000000002")
    assert row is not None and (row.kind, row.text) == ("choice", "满意")
    assert row.payload["choice_id"] == "rate:WZ20261122-0001:1"

    unknown = text_xml(CITIZEN, "满意", 24500000000000099, bizmsgmenuid="777701")
    assert (await world.push.send(unknown)).status == 200
    row = await stored(world, "24500000000000099")
    assert row is not None and (row.kind, row.text, row.payload["choice_id"]) == ("text", "满意", None)


# --- the three modes -------------------------------------------------------------------------------


async def test_plain_mode_answers_in_plain_xml(plain: WechatWorld) -> None:
    answer = await plain.push.send(payload("text"))
    assert answer.status == 200 and not answer.encrypted
    assert answer.text.startswith("请确认您的问政内容")


async def test_compatible_mode_is_read_from_the_encrypted_part_and_answered_encrypted(world: WechatWorld) -> None:
    # 兼容模式 sends the plain fields and the Encrypt field: only the signed, encrypted part counts.
    forged = text_xml(CITIZEN, "这段明文不算数", 24500000000000031)
    nonce, timestamp = world.push.nonce(), world.push.timestamp()
    real = text_xml(CITIZEN, RICH, 24500000000000031)
    encrypted = world.push.encrypt(real, nonce, timestamp)
    body = forged.replace("</xml>", f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>")
    query = {"msg_signature": sign(TOKEN, timestamp, nonce, encrypted)}
    answer = await world.push.send(
        forged, mode="compat", nonce=nonce, timestamp=timestamp, query=query, body=body.encode()
    )
    assert answer.status == 200 and answer.encrypted
    row = await stored(world, "24500000000000031")
    assert row is not None and row.text == RICH

    again = await world.push.send(text_xml(CITIZEN, "我的", 24500000000000032), mode="compat")
    assert again.status == 200 and again.encrypted


async def test_with_a_key_configured_plain_pushes_are_refused(world: WechatWorld) -> None:
    # The plain signature covers no part of the body: once the account is in safe mode, a plain
    # body could be anyone's.
    answer = await world.push.send(payload("text"), mode="plain")
    assert answer.status == 403
    assert await count(world, InboundMessage) == 0


# --- authentication ---------------------------------------------------------------------------------


async def test_url_verification_echoes_echostr_only_when_signed(plain: WechatWorld) -> None:
    nonce, timestamp = "1405973513", plain.push.timestamp()
    good = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "echostr": "583710479"}
    response = await plain.client.get("/webhooks/wechat", params=good)
    assert response.status == 200 and await response.text() == "583710479"
    for broken in (
        {**good, "signature": "0" * 40},
        {k: v for k, v in good.items() if k != "signature"},
        {**good, "timestamp": str(int(timestamp) - 301), "signature": sign(TOKEN, str(int(timestamp) - 301), nonce)},
    ):
        response = await plain.client.get("/webhooks/wechat", params=broken)
        assert response.status == 403
    response = await plain.client.get("/webhooks/wechat", params={**good, "echostr": "<script>"})
    assert response.status == 400


async def test_signature_timestamp_and_nonce_matrix_in_plain_mode(plain: WechatWorld) -> None:
    push = plain.push
    now = int(plain.clock().timestamp())
    xml = payload("text")
    refused = {
        "no signature": {"signature": ""},
        "wrong signature": {"signature": "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
        "signature of another token": {"signature": sign("other-token", str(now), "123456789")},
        "timestamp not a number": {"timestamp": "soon"},
        "nonce missing": {"nonce": ""},
    }
    for case, query in refused.items():
        answer = await push.send(xml, nonce="123456789", timestamp=str(now), query=query)
        assert answer.status == 403, case
    for skew in (-301, 301, -86400):
        stale = str(now + skew)
        answer = await push.send(xml, timestamp=stale)  # correctly signed, but not now
        assert answer.status == 403, skew
    assert await count(plain, InboundMessage) == 0

    fresh = await push.send(xml, timestamp=str(now - 240))  # four minutes late: still accepted
    assert fresh.status == 200 and fresh.text.startswith("请确认")

    # The same nonce with the same body is WeChat sending the request again: same answer.
    first = await push.send(text_xml(CITIZEN, "我的", 24500000000000041), nonce="777000111")
    again = await push.send(text_xml(CITIZEN, "我的", 24500000000000041), nonce="777000111")
    assert first.status == again.status == 200 and first.text == again.text
    # With another body it is a replay of a captured signature.
    replay = await push.send(text_xml(CITIZEN, "撤回 WZ20261122-0001", 24500000000000042), nonce="777000111")
    assert replay.status == 403
    assert await stored(plain, "24500000000000042") is None


async def test_signature_matrix_in_safe_mode(world: WechatWorld) -> None:
    push = world.push
    xml = payload("text")
    nonce, timestamp = push.nonce(), push.timestamp()
    body, msg_signature = push.envelope(xml, nonce, timestamp)
    cases = {
        "no msg_signature": ({"msg_signature": ""}, body, 403),
        "wrong msg_signature": ({"msg_signature": "f" * 40}, body, 403),
        "msg_signature of another body": ({"msg_signature": sign(TOKEN, timestamp, nonce, "AAAA")}, body, 403),
        "no encrypt_type": ({"encrypt_type": ""}, body, 403),
        "no Encrypt field": ({}, message_xml(ToUserName=ACCOUNT), 400),
    }
    for case, (query, sent, status) in cases.items():
        answer = await push.send(
            xml, nonce=nonce, timestamp=timestamp, query={"msg_signature": msg_signature, **query}, body=sent.encode()
        )
        assert answer.status == status, case
    garbage = "bm90IGEgcmVhbCBjaXBoZXJ0ZXh0"  # signed, but no AES block of ours
    answer = await push.send(
        xml,
        query={"msg_signature": sign(TOKEN, timestamp, "5550001", garbage)},
        nonce="5550001",
        timestamp=timestamp,
        body=message_xml(ToUserName=ACCOUNT, Encrypt=garbage).encode(),
    )
    assert answer.status == 400
    other_app = WechatPush(world.client, world.clock, app_id="wx0000000000000000")
    assert (await other_app.send(xml)).status == 400  # encrypted for another account
    assert await count(world, InboundMessage) == 0
    ok = await push.send(xml, nonce=nonce, timestamp=timestamp)
    assert ok.status == 200 and ok.encrypted


# --- bad input ---------------------------------------------------------------------------------------


async def test_a_body_over_64_kib_is_refused_with_413(world: WechatWorld, plain: WechatWorld) -> None:
    big = text_xml(CITIZEN, "很" * 25_000, 24500000000000051)  # 75 KB of UTF-8
    assert (await plain.push.send(big)).status == 413
    assert (await world.push.send(big)).status == 413
    chunks = [big.encode()[i : i + 4096] for i in range(0, len(big.encode()), 4096)]

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while reading
        for chunk in chunks:
            yield chunk

    now, nonce = plain.push.timestamp(), "8080808"
    params = {"signature": sign(TOKEN, now, nonce), "timestamp": now, "nonce": nonce}
    response = await plain.client.post("/webhooks/wechat", params=params, data=streamed())
    assert response.status == 413
    assert await count(plain, InboundMessage) == 0 and await count(world, InboundMessage) == 0


async def test_missing_or_malformed_sender_fields_get_400(plain: WechatWorld) -> None:
    base = {
        "ToUserName": ACCOUNT,
        "FromUserName": CITIZEN,
        "CreateTime": 1795334400,
        "MsgType": "text",
        "Content": "hi",
    }
    for broken in (
        {k: v for k, v in base.items() if k != "FromUserName"},
        {**base, "FromUserName": "o" * 200},
        {**base, "CreateTime": "yesterday"},
        {**base, "MsgType": "event"},  # an event without Event
        {**base, "MsgType": "location", "Location_X": "north", "Location_Y": "1"},
        {**base, "MsgType": "location", "Location_X": "123", "Location_Y": "1"},
        {**base, "MsgType": "image"},
    ):
        answer = await plain.push.send(message_xml(**broken))
        assert answer.status == 400, broken
    assert await count(plain, InboundMessage) == 0


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_malformed_pushes_xxe_and_billion_laughs_get_400_at_once(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path, mode: str
) -> None:
    """Never a 500, never stored. Regression for XXE and billion laughs: the reader refuses any
    DTD before an entity is declared, let alone expanded, in the plain body and, in safe mode,
    inside the encrypted one."""
    world = await start_world(aiohttp_server, aiohttp_client, tmp_path, safe=mode == "safe")
    try:
        cases = ["malformed_truncated", "msgtype_missing", "msgtype_twice", "undefined_entity"]
        for name in [*cases, "xxe_external_entity", "billion_laughs"]:
            started = time.perf_counter()
            answer = await world.push.send(payload(name))
            elapsed = time.perf_counter() - started
            assert answer.status == 400, (name, answer.body)
            assert "root:" not in answer.body and "lollol" not in answer.body
            # An expanded billion laughs takes minutes and gigabytes; refused before expansion it
            # is a parse error. The bound is loose so a busy CI machine cannot flake it.
            assert elapsed < 5.0, (name, elapsed)
        assert (await world.push.send("<html><body>hello</body></html>")).status == 400
        # The safe-mode envelope itself is read before its signature can be checked: same rule.
        answer = await world.push.send(payload("text"), body=payload("billion_laughs").encode())
        assert answer.status == 400
        assert await count(world, InboundMessage) == 0
    finally:
        await world.close()


def test_the_reader_refuses_dtds_and_duplicates_and_keeps_cdata_text() -> None:
    assert parse_fields(b"<xml><A><![CDATA[x]]]]><![CDATA[>y]]></A><B>2</B></xml>") == {"A": "x]]>y", "B": "2"}
    for bad in (
        b'<!DOCTYPE xml SYSTEM "http://example.invalid/x.dtd"><xml><A>1</A></xml>',
        b"<xml><A>1</A><A>2</A></xml>",
        b"<root><A>1</A></root>",
        b"<xml>" + b"<a>" * 10 + b"</a>" * 10 + b"</xml>",
    ):
        with pytest.raises(ValueError):
            parse_fields(bad)


def test_reply_xml_stays_well_formed_whatever_the_text() -> None:
    tricky = "已修复]]><MsgType>news</MsgType>\x00\x07 & <b>"
    fields = parse_fields(text_reply(CITIZEN, ACCOUNT, tricky, 1795334400).encode())
    assert fields["Content"] == "已修复]]><MsgType>news</MsgType> & <b>"  # control characters dropped
    assert fields["MsgType"] == "text"
    long = parse_fields(text_reply(CITIZEN, ACCOUNT, "长" * 2000, 1).encode())["Content"]
    assert len(long.encode()) <= 2048 and long.endswith("…")


async def test_cdata_terminator_in_the_citizens_text_keeps_the_encrypted_reply_well_formed(world: WechatWorld) -> None:
    said = "青岛市市南区香港中路的路灯坏了]]><MsgType>news</MsgType>一个星期了，晚上很危险"
    answer = await world.push.send(text_xml(CITIZEN, said, 24500000000000061))
    assert answer.status == 200 and answer.encrypted
    assert answer.fields["MsgType"] == "text"
    assert "路灯坏了]]><MsgType>news</MsgType>一个星期了" in answer.text


# --- redeliveries and the 5-second rule -------------------------------------------------------------------


async def test_three_concurrent_redeliveries_have_one_effect(world: WechatWorld) -> None:
    xml = payload("text")
    answers = await asyncio.gather(*(world.push.send(xml) for _ in range(3)))
    assert [a.status for a in answers] == [200, 200, 200]
    assert len({a.text for a in answers}) == 1 and answers[0].text.startswith("请确认")
    assert await count(world, InboundMessage) == 1
    await world.deliver()
    queued = await count(world, OutboxMessage)
    sent = len(world.api.custom)
    again = await world.push.send(xml)  # a fourth, later: the same answer, nothing new
    assert again.text == answers[0].text
    await world.deliver()
    assert (await count(world, OutboxMessage), len(world.api.custom)) == (queued, sent)


async def test_unstored_past_the_budget_is_503_and_the_retry_changes_nothing(world: WechatWorld) -> None:
    """A previous message still holds the conversation: after its 4 s budget this push is not
    stored, so WeChat gets 503 (it retries), never ``success``. The message is stored and answered
    once when the conversation frees up, and WeChat's retry then changes nothing."""
    held, release = asyncio.Event(), asyncio.Event()
    ref = ConversationRef("wechat", ACCOUNT, CITIZEN)

    async def slow_previous_message() -> None:
        async with world.services.store.lock(ref.key()):
            held.set()
            await release.wait()

    blocker = asyncio.create_task(slow_previous_message())
    await held.wait()
    started = time.perf_counter()
    answer = await world.push.send(payload("text"))
    waited = time.perf_counter() - started
    assert answer.status == 503 and 3.9 < waited < 5.5  # the 4 s budget, plus a loaded test machine's overhead
    release.set()
    await blocker
    for _ in range(100):  # the late task stores it, runs the dialog and queues its replies
        await world.deliver()
        if world.api.custom:
            break
        await asyncio.sleep(0.02)
    texts = world.api.texts(CITIZEN)
    assert len(texts) == 1 and texts[0].startswith("请确认您的问政内容")
    redelivered = await world.push.send(payload("text"))  # WeChat's retry of the 503
    await world.deliver()
    assert redelivered.success and len(world.api.custom) == 1  # answered already: nothing twice
    assert await count(world, InboundMessage) == 1


async def test_stored_but_slow_answers_success_and_the_reply_follows_through_the_api(world: WechatWorld) -> None:
    """The push is committed, then the database hangs (another connection takes SQLite's write
    lock) while the dialog reads: the message is safe, so WeChat gets ``success`` within its five
    seconds and the reply comes as a customer-service message once the database is back."""
    mine = text_xml(CITIZEN, "我的", 24500000000000071)
    async with hangs_after_the_message_is_stored(world.services.db, world.config.storage.database_url) as hold:
        started = time.perf_counter()
        answer = await world.push.send(mine)
        waited = time.perf_counter() - started
        assert answer.success and 3.9 < waited < 4.9
        await hold.release()
    for _ in range(100):
        await world.deliver()
        if world.api.custom:
            break
        await asyncio.sleep(0.02)
    assert len(world.api.texts(CITIZEN)) == 1
    redelivered = await world.push.send(mine)
    await world.deliver()
    assert redelivered.success and len(world.api.custom) == 1


async def test_storage_down_answers_503_so_wechat_retries(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    world = await start_world(aiohttp_server, aiohttp_client, tmp_path, redis_url="redis://127.0.0.1:9/0")
    try:
        answer = await world.push.send(payload("text"))
        assert answer.status == 503
        assert await count(world, InboundMessage) == 0 and await count(world, Ticket) == 0
    finally:
        await world.close()


async def test_nonces_are_shared_by_workers_through_the_database_and_the_token_through_redis(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path, redis_url: str
) -> None:
    raw = Redis.from_url(redis_url)
    await raw.flushdb()
    await raw.aclose()
    one = await start_world(aiohttp_server, aiohttp_client, tmp_path, safe=False, redis_url=redis_url)
    two = await start_world(
        aiohttp_server, aiohttp_client, tmp_path, safe=False, redis_url=redis_url, clock=one.clock
    )  # a second worker on the same database
    try:
        assert (await one.push.send(text_xml(CITIZEN, "帮助", 1), nonce="424242")).status == 200
        replay = await two.push.send(text_xml(CITIZEN, "我的", 2), nonce="424242")
        assert replay.status == 403  # the other worker has seen that nonce
        two_api = two.channel.api
        token = await one.channel.api.token()
        assert await two_api.token() == token  # one fetch, shared
    finally:
        await one.close()
        await two.close()


async def test_a_captured_plain_mode_query_is_refused_after_a_restart(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """明文模式 signs only the query. The nonce is kept in the database with the body's hash, so a
    restart (the in-process store forgotten) does not let a captured query carry another message;
    the same request again is WeChat's retry, answered as before, nothing new."""
    before = await start_world(aiohttp_server, aiohttp_client, tmp_path, safe=False)
    clock, nonce = before.clock, "31415926"
    timestamp = before.push.timestamp()
    original = text_xml(CITIZEN, RICH, 24500000000000061)
    try:
        first = await before.push.send(original, nonce=nonce, timestamp=timestamp)
        assert first.status == 200 and first.text.startswith("请确认您的问政内容")
    finally:
        await before.close()
    clock.advance(minutes=2)  # still within the five minutes the signed timestamp stays valid
    after = await start_world(aiohttp_server, aiohttp_client, tmp_path, safe=False, clock=clock)
    try:
        forged = text_xml(CITIZEN, "撤回 WZ20261122-0001", 24500000000000062)
        assert (await after.push.send(forged, nonce=nonce, timestamp=timestamp)).status == 403
        assert await stored(after, "24500000000000062") is None
        again = await after.push.send(original, nonce=nonce, timestamp=timestamp)
        assert again.status == 200 and again.text == first.text  # a redelivery: the stored answer
        await after.deliver()
        assert await count(after, InboundMessage) == 1 and after.api.custom == []
    finally:
        await after.close()
