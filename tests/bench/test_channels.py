"""The pipeline's channel clients and the fake platforms, for real.

One service (``wenzheng serve`` on SQLite, every platform channel on, pointed at
``python -m bench.fake_platforms``) is started once; each platform client then runs a short
closed-loop load against it. A client that signs, encrypts, formats or reads anything wrong gets
403/400s, no passive reply or no inquiry number, and fails its test. The clients write about the
same matters, so the later ones meet 已有人反映 at 提交 and must answer it on their channel.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bench.channels import OFFER_ANSWER, Platforms, Shown, WechatClient, listed_choices, offered, typed_choice
from bench.conversation import FOLLOW, SEPARATE, SUBMIT, TURNS, Turn, follows
from bench.fake_platforms import FakePlatforms, Recorder
from bench.loadgen import parser, run
from bench.pipeline import Service, service

ClientFactory = Any  # pytest-aiohttp's aiohttp_client fixture


# --- the fake platforms, in process -----------------------------------------------------------------


async def _fake(aiohttp_client: ClientFactory, recorder: Recorder | None = None) -> TestClient[Any, Any]:
    app: web.Application = FakePlatforms(recorder).app()
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


async def test_fake_platforms_record_every_platforms_texts_per_recipient(aiohttp_client: ClientFactory) -> None:
    fake = await _fake(aiohttp_client)
    markup = '{"inline_keyboard": [[{"text": "提交", "callback_data": "confirm:submit"}]]}'
    params = {"chat_id": "7001", "text": "请确认", "reply_markup": markup}
    sent = await fake.post("/bot123:AAx/sendMessage", data=params)
    body = await sent.json()
    assert body["ok"] is True and body["result"]["message_id"] > 0
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == SUBMIT
    me = await (await fake.get("/bot123:AAx/getMe")).json()
    assert me["result"]["is_bot"] is True and me["result"]["id"] == 123
    token = await (await fake.get("/cgi-bin/token", params={"grant_type": "client_credential"})).json()
    assert token["access_token"] and token["expires_in"] == 7200
    menu = {"head_content": "请确认", "list": [{"id": "101", "content": "提交"}], "tail_content": ""}
    wechat = await fake.post(
        "/cgi-bin/message/custom/send",
        params={"access_token": token["access_token"]},
        json={"touser": "oABC", "msgtype": "msgmenu", "msgmenu": menu},
    )
    assert (await wechat.json())["errcode"] == 0
    weibo = await fake.post(
        "/2/messages/reply.json",
        data={"access_token": "t", "type": "text", "receiver_id": "6001", "data": "%7B%22text%22%3A%22%E5%A5%BD%22%7D"},
    )
    assert (await weibo.json())["result"] is True

    got = await (await fake.get("/_bench/texts", params={"platform": "telegram", "to": "7001"})).json()
    assert [t["text"] for t in got["texts"]] == ["请确认"] and got["texts"][0]["message"]["chat"]["id"] == 7001
    got = await (await fake.get("/_bench/texts", params={"platform": "wechat", "to": "oABC"})).json()
    assert got["texts"][0]["menu"] == [["101", "提交"]]
    got = await (await fake.get("/_bench/texts", params={"platform": "weibo", "to": "6001"})).json()
    assert [t["text"] for t in got["texts"]] == ["好"]
    got = await (await fake.get("/_bench/texts", params={"platform": "weibo", "to": "6001", "after": "1"})).json()
    assert got["texts"] == []
    bad = await fake.get("/_bench/texts", params={"platform": "myspace", "to": "1"})
    assert bad.status == 400


async def test_fake_platforms_long_poll_waits_for_a_text_and_is_bounded(aiohttp_client: ClientFactory) -> None:
    fake = await _fake(aiohttp_client)
    started = time.monotonic()
    empty = await (await fake.get("/_bench/texts", params={"platform": "weibo", "to": "6002", "wait": "0.3"})).json()
    assert empty["texts"] == [] and 0.25 <= time.monotonic() - started < 2.0

    async def later() -> None:
        await asyncio.sleep(0.2)
        await fake.post("/2/messages/reply.json", data={"receiver_id": "6002", "data": "%7B%22text%22%3A%22x%22%7D"})

    poster = asyncio.create_task(later())
    started = time.monotonic()
    got = await (await fake.get("/_bench/texts", params={"platform": "weibo", "to": "6002", "wait": "10"})).json()
    await poster
    assert [t["text"] for t in got["texts"]] == ["x"] and time.monotonic() - started < 2.0


async def test_fake_platforms_keep_a_bounded_number_of_texts(aiohttp_client: ClientFactory) -> None:
    recorder = Recorder(max_texts=3)
    fake = await _fake(aiohttp_client, recorder)
    for chat in ("1", "2", "3", "4"):
        await fake.post("/bot1:A/sendMessage", data={"chat_id": chat, "text": f"to {chat}"})
    assert recorder.total == 3 and "telegram:1" not in recorder.by_recipient


def test_a_choice_is_typed_as_the_number_shown_or_as_its_label() -> None:
    shown = Shown(("请确认您的问政内容：\n类型：投诉\n\n1. 提交\n2. 修改\n3. 取消",))
    assert typed_choice(SUBMIT, shown) == "1"
    assert typed_choice(SUBMIT, Shown(("\n1. 修改\n2. 提交",))) == "2"
    assert typed_choice(SUBMIT, Shown()) == "提交"
    with pytest.raises(ValueError):
        typed_choice("confirm:unknown", shown)


def test_the_duplicate_offer_is_seen_and_answered_by_its_numbers() -> None:
    """As WeChat and Weibo passive replies show it (``Outbound.as_numbered_text``)."""
    said = "这个问题已有人反映（编号WZ20261201-0001，已受理）：路灯不亮\n\n1. 关注它\n2. 仍要单独提交"
    shown = Shown((said,), choices=listed_choices((said,)))
    assert offered(shown) and shown.choices == (FOLLOW, SEPARATE)
    assert (typed_choice(FOLLOW, shown), typed_choice(SEPARATE, shown)) == ("1", "2")
    summary = ("请确认您的问政内容：\n1. 提交\n2. 修改\n3. 取消",)
    assert not offered(Shown(summary, choices=listed_choices(summary)))
    menu = (("501", "关注它"), ("502", "仍要单独提交"))
    assert listed_choices(("这个问题已有人反映",), menu) == (FOLLOW, SEPARATE)


def test_a_share_of_the_offered_citizens_follow_spread_evenly() -> None:
    assert sum(follows(c, 0.3) for c in range(100)) == 30
    assert all(sum(follows(c, 0.3) for c in range(start, start + 10)) == 3 for start in range(0, 90, 10))
    assert not any(follows(c, 0.0) for c in range(20)) and all(follows(c, 1.0) for c in range(20))


# --- each client against the real service ------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The fake platforms and ``wenzheng serve`` (SQLite), both as their own processes."""
    with service(tmp_path_factory.mktemp("pipeline"), "sqlite", platforms=True) as svc:
        yield svc


async def _drive(svc: Service, channel: str, *extra: str) -> dict[str, Any]:
    args = parser().parse_args(
        [
            "--base-url",
            svc.base_url,
            "--channel",
            channel,
            "--platforms",
            str(svc.platforms_file),
            "--concurrency",
            "3",
            "--warmup",
            "0",
            "--max-conversations",
            "3",  # one conversation per citizen: the run ends when they are done
            "--duration",
            "20",  # an upper bound only
            "--reply-timeout",
            "15",
            *extra,  # later options win
        ]
    )
    return await run(args)


@pytest.mark.parametrize("channel", ["wechat", "weibo", "telegram"])
async def test_a_platform_client_files_tickets_through_the_real_endpoint(world: Service, channel: str) -> None:
    result = await _drive(world, channel)
    assert result["errors"] == 0 and result["errors_in_warmup"] == 0, result["error_samples"]
    assert result["conversations"] == 3, result
    # Each citizen got its number back, or followed the ticket 已有人反映 offered.
    assert result["filed"] + result["follows"] == 3, result
    assert result["separate"] + result["follows"] == result["offers"], result
    # Filing anyway is one message more (the offer's answer, then 提交); following skips 提交.
    assert result["messages"] == 3 * TURNS + result["separate"], result  # and finished the conversation
    assert result["messages_per_conversation"] == result["messages"] / 3
    assert result["reply_missing"] == 0
    if channel == "telegram":
        # Replies only through the Bot API: the buttons and the number were fetched from the fake.
        assert result["reply_latency_ms"]["0"]["count"] == 3
        assert result["reply_latency_ms"]["1"]["count"] == 3 - result["follows"]  # no 提交 after 关注它
    if channel != "wechat":  # wechat ran first; the others wrote about the same three matters
        assert result["offers"] == 3, result


@pytest.fixture
def fresh_world(tmp_path: Path) -> Iterator[Service]:
    """A service of its own: tickets left by the other channels' runs would change who is offered what."""
    with service(tmp_path, "sqlite", platforms=True) as svc:
        yield svc


@pytest.mark.parametrize("channel", ["weibo", "webchat", "telegram"])
async def test_citizens_writing_about_one_matter_answer_the_duplicate_offer_both_ways(
    fresh_world: Service, channel: str
) -> None:
    world = fresh_world
    """One after another, five citizens report the same matter: the four after the first meet
    已有人反映 before their summary, and half of them follow it (no ticket of their own: their later turns quote the
    followed number), half file anyway (typed "1"/"2" on Weibo, the button on web chat/Telegram)."""
    args = ["--matters", "1", "--follow-share", "0.5", "--concurrency", "1", "--max-conversations", "5"]
    result = await _drive(world, channel, *args)
    assert result["errors"] == 0 and result["reply_missing"] == 0, result["error_samples"]
    assert result["conversations"] == 5, result
    assert result["offers"] >= 4, result  # the first may meet an earlier test's ticket on the same matter
    assert result["follows"] >= 2 and result["separate"] >= 2, result
    assert result["follows"] + result["separate"] == result["offers"], result
    assert result["filed"] + result["follows"] == 5, result
    assert result["messages"] == 5 * TURNS + result["separate"], result
    assert result["reply_latency_ms"].get(str(OFFER_ANSWER), {"count": 0})["count"] == (
        result["offers"] if channel == "telegram" else 0
    )


async def test_a_late_wechat_reply_is_read_from_the_platform_api(aiohttp_client: ClientFactory) -> None:
    """``success`` instead of a passive reply: the choices (a tappable msgmenu) and the number come
    through the customer-service API, and a tap is sent as WeChat sends it (``bizmsgmenuid``)."""
    fake = await _fake(aiohttp_client)
    client = WechatClient(Platforms.random(str(fake.make_url("")).rstrip("/")))
    citizen = await client.open(fake.session, "", 0)
    menu = {"head_content": "请确认", "list": [{"id": "4201", "content": "提交"}, {"id": "4202", "content": "修改"}]}
    body = {"touser": citizen.credential, "msgtype": "msgmenu", "msgmenu": menu}
    await fake.post("/cgi-bin/message/custom/send", json=body)
    shown = await client.follow(fake.session, citizen, 0, Shown(), time.monotonic() + 5)
    assert shown.late and shown.fetched and not shown.missing and ("4201", "提交") in shown.menu
    push = client.push_xml(citizen, Turn(choice=SUBMIT), "run-0-1", shown)
    assert "<bizmsgmenuid><![CDATA[4201]]></bizmsgmenuid>" in push and "<Content><![CDATA[提交]]></Content>" in push
    text = {"content": "提交成功！您的问政编号：WZ20261122-0042"}
    body = {"touser": citizen.credential, "msgtype": "text", "text": text}
    await fake.post("/cgi-bin/message/custom/send", json=body)
    shown = await client.follow(fake.session, citizen, 1, Shown(), time.monotonic() + 5, after=shown.seen)
    assert shown.late and not shown.missing and any("WZ20261122-0042" in t for t in shown.texts)
    stranger = await client.open(fake.session, "", 1)
    waited = await client.follow(fake.session, stranger, 1, Shown(), time.monotonic() + 0.3)
    assert waited.missing
