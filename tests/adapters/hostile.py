"""The four inbound endpoints of the real app, each with its fake platform, for hostile-input tests.

Built inside an event loop the caller owns, so hypothesis (which drives plain functions) can post
thousands of payloads through the real aiohttp app on one database without restarting it. Each
endpoint knows how its platform authenticates a request (cookie, secret header, signed query,
signed or encrypted XML), so a hostile payload reaches the parser and the dispatcher instead of
being refused at the door; and it can send one ordinary message, to show the app still works.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from adapters.telegram.channel import SECRET_HEADER
from bot.app import SERVICES, Services, build_app
from storage.models import InboundMessage
from tests.adapters.telegram.fake_api import FakeTelegramAPI
from tests.adapters.telegram.test_telegram import SECRET, TOKEN, telegram_config
from tests.adapters.wechat.fake_api import (
    ACCOUNT,
    FakeWechatApi,
    WechatPush,
    _fields,
    message_xml,
    sign,
    text_xml,
    wechat_config,
)
from tests.adapters.weibo.fake_api import FakeWeibo
from tests.app_helpers import Clock, make_config

# Every answer a hostile request may get: handled (200), refused as malformed (400), as forged
# (403), as too large (413) or as not JSON (415). Never 500, never a 503 "storage outage".
ALLOWED = frozenset({200, 400, 403, 413, 415})
WEIBO_SECRET = "weibo-app-secret"
WEIBO_TOKEN = "weibo-access-token"
WEIBO_ACCOUNT = 1902538057
CITIZEN_TG = 5550001
CITIZEN_WEIBO = 2489518277
CITIZEN_WECHAT = "oZx8s5Lk2mQ9pR3tV6wY1bN4cF7h"


@dataclass
class Endpoint:
    """One channel's webhook: ``post`` sends a body as the platform would and returns the status."""

    client: TestClient[Any, Any]
    post: Callable[[bytes], Awaitable[int]]
    ordinary: Callable[[str], Awaitable[int]]

    @property
    def services(self) -> Services:
        services: Services = self.client.app[SERVICES]
        return services

    async def texts(self) -> list[str]:
        async with self.services.sessions() as session:
            return list((await session.execute(select(InboundMessage.text).order_by(InboundMessage.id))).scalars())


def as_json(value: Any) -> bytes:
    """JSON as a platform's encoder writes it: ASCII escapes, so lone surrogates and NUL travel as
    ``\\ud800`` and ``\\u0000``, and non-finite floats as ``NaN``/``Infinity`` (Python's extension)."""
    return json.dumps(value, ensure_ascii=True).encode()


async def _client(stack: AsyncExitStack, app: Any) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(app))
    await client.start_server()
    stack.push_async_callback(client.close)
    return client


async def _server(stack: AsyncExitStack, app: Any) -> TestServer:
    server = TestServer(app)
    await server.start_server()
    stack.push_async_callback(server.close)
    return server


async def _close_platforms(stack: AsyncExitStack, client: TestClient[Any, Any]) -> None:
    async def close() -> None:
        for channel in client.app[SERVICES].platforms.values():
            closing = getattr(channel, "close", None)
            if closing is not None:
                await closing()

    stack.push_async_callback(close)


async def webchat(stack: AsyncExitStack, tmp_path: Path, database_url: str | None = None) -> Endpoint:
    app = build_app(make_config(tmp_path, database_url), clock=Clock(), run_workers=False)
    client = await _client(stack, app)
    assert (await client.post("/chat/api/session")).status == 200

    async def post(body: bytes) -> int:
        response = await client.post("/chat/api/messages", data=body, headers={"Content-Type": "application/json"})
        await response.read()
        return response.status

    async def ordinary(text: str) -> int:
        return await post(as_json({"id": f"ok-{secrets.token_hex(8)}", "text": text}))

    return Endpoint(client, post, ordinary)


async def telegram(stack: AsyncExitStack, tmp_path: Path, database_url: str | None = None) -> Endpoint:
    clock = Clock()
    fake = FakeTelegramAPI(clock, TOKEN)
    api = await _server(stack, fake.app())
    config = telegram_config(tmp_path, str(api.make_url("")))
    if database_url is not None:
        config = config.model_copy(update={"storage": config.storage.model_copy(update={"database_url": database_url})})
    client = await _client(stack, build_app(config, clock=clock, run_workers=False))
    await _close_platforms(stack, client)
    update_ids = iter(range(900_000_001, 2**62))

    async def post(body: bytes) -> int:
        response = await client.post(
            "/webhooks/telegram", data=body, headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}
        )
        await response.read()
        return response.status

    async def ordinary(text: str) -> int:
        chat = {"id": CITIZEN_TG, "type": "private"}
        user = {"id": CITIZEN_TG, "is_bot": False, "first_name": "小明"}
        update = {
            "update_id": next(update_ids),
            "message": {"message_id": 1, "from": user, "chat": chat, "date": 1795334400, "text": text},
        }
        return await post(as_json(update))

    return Endpoint(client, post, ordinary)


async def weibo(stack: AsyncExitStack, tmp_path: Path, database_url: str | None = None) -> Endpoint:
    clock = Clock()
    fake = FakeWeibo(clock, WEIBO_SECRET, WEIBO_TOKEN, account_id=str(WEIBO_ACCOUNT))
    api = await _server(stack, fake.app())
    base = make_config(tmp_path, database_url)
    settings = {"enabled": True, "app_secret": WEIBO_SECRET, "access_token": WEIBO_TOKEN}
    channel = base.channels.weibo.model_copy(update={**settings, "api_base_url": str(api.make_url(""))})
    config = base.model_copy(update={"channels": base.channels.model_copy(update={"weibo": channel})})
    client = await _client(stack, build_app(config, clock=clock, run_workers=False))
    await _close_platforms(stack, client)
    seconds = iter(range(10**9))

    async def post(body: bytes) -> int:
        """Signed like the platform signs (the fake's query), the body sent as given."""
        headers = {"Content-Type": "application/json"}
        response = await client.post("/webhooks/weibo", params=fake.query(), data=body, headers=headers)
        await response.read()
        return response.status

    async def ordinary(text: str) -> int:
        push = {
            "type": "text",
            "receiver_id": WEIBO_ACCOUNT,
            "sender_id": CITIZEN_WEIBO,
            "created_at": f"Sun Nov 22 16:00:00 +0800 2026 #{next(seconds)}",
            "text": text,
            "data": {},
        }
        return (await fake.push(client, push)).status  # the fake checks the passive reply's format

    return Endpoint(client, post, ordinary)


@dataclass
class WechatEndpoint(Endpoint):
    push: WechatPush

    async def post_xml(self, xml: bytes) -> int:
        """``xml`` (any bytes) as the push's message: signed as is in plain mode; in safe mode
        encrypted as is (WeChat's AES envelope carries bytes), so the reader sees exactly them."""
        if self.push.mode == "plain":
            return (await self.push.send("", body=xml)).status
        nonce, timestamp = self.push.nonce(), self.push.timestamp()
        envelope = str(self.push.crypto.encrypt_message(xml, nonce, timestamp))  # wechatpy takes bytes too
        encrypted = _fields(envelope)["Encrypt"]
        params = {
            "signature": sign(self.push.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": CITIZEN_WECHAT,
            "encrypt_type": "aes",
            "msg_signature": sign(self.push.token, timestamp, nonce, encrypted),
        }
        body = message_xml(ToUserName=ACCOUNT, Encrypt=encrypted).encode()
        response = await self.client.post(
            self.push.path, params=params, data=body, headers={"Content-Type": "text/xml"}
        )
        await response.read()
        return response.status


async def wechat(
    stack: AsyncExitStack, tmp_path: Path, database_url: str | None = None, *, safe: bool = True
) -> WechatEndpoint:
    clock = Clock()
    api = FakeWechatApi(clock)
    server = await _server(stack, api.app)
    config = wechat_config(tmp_path, str(server.make_url("")).rstrip("/"), safe=safe)
    if database_url is not None:
        config = config.model_copy(update={"storage": config.storage.model_copy(update={"database_url": database_url})})
    client = await _client(stack, build_app(config, clock=clock, run_workers=False))
    await _close_platforms(stack, client)
    push = WechatPush(client, clock, api, mode="safe" if safe else "plain")
    msg_ids = iter(range(24_000_000_000_000_001, 2**62))

    async def post(body: bytes) -> int:
        return await endpoint.post_xml(body)

    async def ordinary(text: str) -> int:
        return (await push.send(text_xml(CITIZEN_WECHAT, text, next(msg_ids)))).status

    endpoint = WechatEndpoint(client, post, ordinary, push)
    return endpoint
