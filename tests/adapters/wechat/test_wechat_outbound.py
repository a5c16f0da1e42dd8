"""WeChat outbound against the fake API: the shared token, customer-service messages and their
window, msgmenu choices, template messages, error codes, the outbox around them, and the menu CLI.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from adapters.base import (
    Choice,
    ConversationRef,
    DeliveryContext,
    Outbound,
    OutsideWindow,
    Purpose,
    RecipientUnreachable,
    SendError,
)
from adapters.wechat.api import TOKEN_KEY, ApiError, Credentials, WechatApi
from adapters.wechat.channel import WechatChannel, WechatSettings
from bot import wire_wechat
from storage.identities import IdentityRepository
from storage.models import OutboxMessage
from tests.adapters.wechat.fake_api import (
    ACCOUNT,
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TEMPLATE_ID,
    TOKEN,
    ClientFactory,
    WechatWorld,
    start_world,
    text_xml,
)

ServerFactory = Callable[..., Awaitable[TestServer]]
RATING = Outbound(
    "请对问政WZ20261122-0007的答复进行评价：",
    choices=tuple(
        Choice(f"rate:WZ20261122-0007:{n}", label) for n, label in ((1, "满意"), (2, "基本满意"), (3, "不满意"))
    ),
    purpose=Purpose.RATING,
    ticket_number="WZ20261122-0007",
)
STATUS = Outbound(
    "【城市管理局】工作人员已接单，正在办理您的问政WZ20261122-0007。",
    purpose=Purpose.STATUS,
    ticket_number="WZ20261122-0007",
)
REPLY = Outbound("问题发生在哪里？请发送位置，或输入详细地址。")


@pytest.fixture
async def world(
    aiohttp_server: ServerFactory, aiohttp_client: ClientFactory, tmp_path: Path
) -> AsyncIterator[WechatWorld]:
    built = await start_world(aiohttp_server, aiohttp_client, tmp_path)
    yield built
    await built.close()


def ref(openid: str) -> ConversationRef:
    return ConversationRef("wechat", ACCOUNT, openid)


def inside(world: WechatWorld, sent: int = 0) -> DeliveryContext:
    now = world.clock()
    return DeliveryContext(now=now, last_inbound_at=now - timedelta(hours=1), sent_since_inbound=sent)


def outside(world: WechatWorld) -> DeliveryContext:
    now = world.clock()
    return DeliveryContext(now=now, last_inbound_at=now - timedelta(hours=49))


def channel_like(world: WechatWorld, **changes: Any) -> WechatChannel:
    """Another worker's channel on the same store (or one configured differently)."""
    settings = WechatSettings(
        **{
            "token": TOKEN,
            "app_id": APP_ID,
            "app_secret": APP_SECRET,
            "encoding_aes_key": AES_KEY,
            "api_base_url": world.api_url,
            "status_template_id": TEMPLATE_ID,
            **changes,
        }
    )
    return WechatChannel(settings, world.services.dispatcher, world.services.store, world.clock)


# --- the access_token ----------------------------------------------------------------------------------


async def test_the_token_is_fetched_once_and_shared_by_workers(world: WechatWorld) -> None:
    world.api.user_acted("oUser-token-1")
    other = channel_like(world)
    try:
        await world.channel.send(ref("oUser-token-1"), REPLY, "1", inside(world))
        await other.send(ref("oUser-token-1"), REPLY, "2", inside(world))
    finally:
        await other.close()
    assert world.api.token_fetches == 1 and len(world.api.custom) == 2
    assert await world.services.store.get(TOKEN_KEY) in world.api.valid_tokens


async def test_a_refused_token_is_refreshed_once_then_the_send_is_retried_later(world: WechatWorld) -> None:
    openid = "oUser-token-2"
    world.api.user_acted(openid)
    await world.channel.send(ref(openid), REPLY, "1", inside(world))
    world.api.retire_tokens()  # someone fetched a new token elsewhere: 40001
    await world.channel.send(ref(openid), REPLY, "2", inside(world))
    world.api.expire_tokens()  # 42001
    await world.channel.send(ref(openid), REPLY, "3", inside(world))
    assert world.api.token_fetches == 3 and len(world.api.custom) == 3
    assert [code for endpoint, code in world.api.calls if endpoint == "custom"] == [0, 40001, 0, 42001, 0]

    world.api.fail("custom", 40014, 40014)  # refused again after the refresh: not forever
    with pytest.raises(SendError) as failed:
        await world.channel.send(ref(openid), REPLY, "4", inside(world))
    assert failed.value.retryable and world.api.token_fetches == 4


async def test_token_fetch_failures_are_retryable(world: WechatWorld) -> None:
    world.api.fail("token", 500)
    with pytest.raises(SendError) as failed:
        await world.channel.send(ref("oUser-token-3"), REPLY, "1", inside(world))
    assert failed.value.retryable
    wrong = WechatApi(world.api_url, Credentials(APP_ID, "not-the-secret"), world.services.store)
    try:
        with pytest.raises(ApiError) as refused:
            await wrong.token()
        assert refused.value.code == 40125
    finally:
        await wrong.close()


# --- customer-service messages and their window -------------------------------------------------------


async def test_choices_go_as_a_tappable_msgmenu_else_as_numbered_text(world: WechatWorld) -> None:
    openid = "oUser-menu-1"
    world.api.user_acted(openid)
    assert await world.channel.send(ref(openid), RATING, "17", inside(world)) is None
    sent = world.api.custom[-1]
    assert sent["msgtype"] == "msgmenu"
    assert sent["msgmenu"]["head_content"] == RATING.text
    assert sent["msgmenu"]["list"] == [
        {"id": "1701", "content": "满意"},
        {"id": "1702", "content": "基本满意"},
        {"id": "1703", "content": "不满意"},
    ]
    assert await world.services.store.get(f"wechat:menu:{openid}:1703") == "rate:WZ20261122-0007:3"

    world.api.msgmenu_supported = False  # a subscription account: 40200
    await world.channel.send(ref(openid), RATING, "18", inside(world))
    assert world.api.custom[-1] == {
        "touser": openid,
        "msgtype": "text",
        "text": {"content": "请对问政WZ20261122-0007的答复进行评价：\n\n1. 满意\n2. 基本满意\n3. 不满意"},
    }
    world.api.msgmenu_supported = True
    many = Outbound("选一个：", choices=tuple(Choice(str(i), f"选项{i}") for i in range(12)))
    await world.channel.send(ref(openid), many, "19", inside(world))
    assert world.api.custom[-1]["msgtype"] == "text"  # over msgmenu's ten items


async def test_inside_the_window_customer_service_outside_a_template(world: WechatWorld) -> None:
    openid = "oUser-window-1"
    world.api.user_acted(openid)
    assert await world.channel.send(ref(openid), STATUS, "21", inside(world)) is None
    assert world.api.texts(openid) == [STATUS.text]

    world.clock.advance(hours=49)
    msgid = await world.channel.send(ref(openid), STATUS, "22", outside(world))
    msgid_rating = await world.channel.send(ref(openid), RATING, "23", outside(world))
    assert msgid is not None and msgid_rating is not None and msgid != msgid_rating
    templates = world.api.templates_to(openid)
    assert [t["template_id"] for t in templates] == [TEMPLATE_ID, TEMPLATE_ID]
    data = templates[0]["data"]
    assert data["keyword1"]["value"] == "WZ20261122-0007"
    assert data["keyword2"]["value"] == "办理进展更新"
    assert data["keyword3"]["value"] == "2026-11-24 17:00"  # Beijing time, 49 h after 16:00
    assert STATUS.text in data["remark"]["value"]
    assert templates[1]["data"]["keyword2"]["value"] == "待评价"
    assert "1. 满意" in templates[1]["data"]["remark"]["value"]  # the citizen can answer with a digit
    with pytest.raises(OutsideWindow):
        await world.channel.send(ref(openid), REPLY, "24", outside(world))  # a reply waits for them
    assert world.api.window_refusals == []  # we knew: WeChat never had to refuse
    assert len(world.api.texts(openid)) == 1


async def test_the_fifth_message_closes_the_window(world: WechatWorld) -> None:
    openid = "oUser-window-2"
    world.api.user_acted(openid)
    for n in range(5):
        await world.channel.send(ref(openid), STATUS, f"3{n}", inside(world, sent=n))
    await world.channel.send(ref(openid), STATUS, "35", inside(world, sent=5))
    assert len(world.api.texts(openid)) == 5 and len(world.api.templates_to(openid)) == 1
    assert world.api.window_refusals == []


async def test_when_wechat_says_the_window_closed_status_goes_as_template_and_a_reply_waits(
    world: WechatWorld,
) -> None:
    openid = "oUser-window-3"  # never wrote as far as WeChat knows: 45015 although we thought otherwise
    await world.channel.send(ref(openid), STATUS, "41", inside(world))
    assert len(world.api.templates_to(openid)) == 1
    with pytest.raises(OutsideWindow):
        await world.channel.send(ref(openid), REPLY, "42", inside(world))
    world.api.user_acted(openid)
    world.api.fail("custom", 45047)
    await world.channel.send(ref(openid), RATING, "43", inside(world))
    assert len(world.api.templates_to(openid)) == 2
    unknown = DeliveryContext(now=world.clock())  # no known last message (a staff ref): WeChat decides
    await world.channel.send(ConversationRef("wechat", "staff", openid), STATUS, "44", unknown)
    assert world.api.texts(openid) == [STATUS.text]


async def test_without_a_template_status_waits_for_the_citizen(world: WechatWorld) -> None:
    bare = channel_like(world, status_template_id="")
    try:
        with pytest.raises(OutsideWindow):
            await bare.send(ref("oUser-window-4"), STATUS, "51", outside(world))
    finally:
        await bare.close()
    assert world.api.templates == []


async def test_template_retries_do_not_notify_twice(world: WechatWorld) -> None:
    openid = "oUser-template-1"
    first = await world.channel.send(ref(openid), STATUS, "61", outside(world))
    again = await world.channel.send(ref(openid), STATUS, "61", outside(world))  # answer lost, outbox retried
    assert first == again and len(world.api.templates_to(openid)) == 1


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [43004, 43019, 43101])
async def test_unreachable_codes_stop_trying(world: WechatWorld, code: int) -> None:
    openid = f"oUser-gone-{code}"
    world.api.user_acted(openid)
    world.api.fail("custom", code)
    with pytest.raises(RecipientUnreachable):
        await world.channel.send(ref(openid), REPLY, "71", inside(world))
    world.api.fail("template", code)
    with pytest.raises(RecipientUnreachable):
        await world.channel.send(ref(openid), STATUS, "72", outside(world))


async def test_every_other_failure_is_retried(world: WechatWorld) -> None:
    openid = "oUser-retry-1"
    world.api.user_acted(openid)
    for failure in (500, 502, -1, 45009, 40037):
        world.api.fail("custom", failure)
        with pytest.raises(SendError) as failed:
            await world.channel.send(ref(openid), REPLY, "81", inside(world))
        assert failed.value.retryable and not isinstance(failed.value, RecipientUnreachable | OutsideWindow)
    unreachable = channel_like(world, api_base_url="http://127.0.0.1:9")
    try:
        await world.services.store.delete(TOKEN_KEY)
        with pytest.raises(SendError) as failed:
            await unreachable.send(ref(openid), REPLY, "82", inside(world))
        assert failed.value.retryable
        assert APP_SECRET not in str(failed.value) and "access_token" not in str(failed.value)
    finally:
        await unreachable.close()


async def test_through_the_outbox_a_blocked_citizen_is_dead_lettered_and_marked_unreachable(
    world: WechatWorld,
) -> None:
    openid = "oUser-outbox-1"
    await world.push.send(text_xml(openid, "你好", 90))  # one passive greeting, which asks for the description
    first = await world.push.send(text_xml(openid, "帮助", 91))  # a passive help; the question again is queued
    assert first.status == 200 and first.encrypted
    world.api.unsubscribed.add(openid)  # they left before the worker sent the rest
    await world.deliver()
    async with world.services.sessions() as session:
        statuses = (await session.execute(select(OutboxMessage.status))).scalars().all()
        identity = await IdentityRepository().find(session, "wechat", ACCOUNT, openid)
    assert statuses and set(statuses) == {"dead"}
    assert identity is not None and identity.reachable is False


async def test_through_the_outbox_a_reply_outside_the_window_waits_for_the_next_message(world: WechatWorld) -> None:
    openid = "oUser-outbox-2"
    await world.push.send(text_xml(openid, "你好", 90))  # one passive greeting, which asks for the description
    answer = await world.push.send(text_xml(openid, "帮助", 92))
    assert answer.text  # the passive help; the form's question, asked again, is queued
    world.clock.advance(hours=49)  # the worker was down for two days
    await world.deliver()
    async with world.services.sessions() as session:
        held = (await session.execute(select(OutboxMessage.status))).scalars().all()
    assert held == ["held"] and world.api.custom == []
    await world.push.send(text_xml(openid, "我的", 93))  # they write again: the window reopens
    await world.deliver()
    assert any(t.startswith("请具体描述问题") for t in world.api.texts(openid))
    assert world.api.window_refusals == []


# --- wenzheng wechat menu ---------------------------------------------------------------------------------


def menu_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="wenzheng")
    wire_wechat.register_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["wechat", "menu", "--config", "config.yaml"])
    assert (args.command, args.wechat_command, args.config) == ("wechat", "menu", "config.yaml")
    return args


async def test_the_menu_command_installs_the_three_buttons(
    world: WechatWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await wire_wechat.run_cli(menu_args(), world.config) == 0
    assert world.api.menus == [
        {
            "button": [
                {"type": "click", "name": "我要问政", "key": "WZ_NEW"},
                {"type": "click", "name": "我的问政", "key": "WZ_MY"},
                {"type": "click", "name": "帮助", "key": "WZ_HELP"},
            ]
        }
    ]
    assert "我要问政 / 我的问政 / 帮助" in capsys.readouterr().out

    world.api.fail("menu", 40018)
    assert await wire_wechat.run_cli(menu_args(), world.config) == 1
    assert "40018" in capsys.readouterr().err

    wechat = world.config.channels.wechat.model_copy(update={"app_secret": ""})
    broken = world.config.model_copy(update={"channels": world.config.channels.model_copy(update={"wechat": wechat})})
    assert await wire_wechat.run_cli(menu_args(), broken) == 2
    assert "channels.wechat.app_secret" in capsys.readouterr().err
