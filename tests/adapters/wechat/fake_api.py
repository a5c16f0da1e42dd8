"""A fake WeChat on loopback: the Official Account API, and WeChat's side of the message push.

Outbound, ``FakeWechatApi`` serves ``/cgi-bin/token``, ``/cgi-bin/message/custom/send``,
``/cgi-bin/message/template/send`` and ``/cgi-bin/menu/create`` with the platform's rules: tokens
it issued and has not retired, customer-service messages only within 48 hours of the user's last
action and at most five of them, templates only with the configured template id, nothing to users
who unsubscribed. A customer-service message it refuses for the window is also recorded in
``window_refusals``, so a test notices a channel that should have known better. Failures can be
queued per endpoint (an errcode, or an HTTP status from 500 up).

Inbound, ``WechatPush`` plays WeChat pushing to ``/webhooks/wechat``: it signs (and in 安全模式
encrypts, with wechatpy's ``WeChatCrypto``) exactly as the platform does, and decrypts and checks
the passive reply it gets back. The API learns what users did from those pushes, as the real
platform knows what it delivered.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from wechatpy.crypto import WeChatCrypto

from adapters.wechat.channel import WechatChannel
from bot.app import SERVICES, Services, build_app
from bot.config import AppConfig, StaffConfig
from storage.staff import StaffRepository
from tests.app_helpers import Clock, make_config

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = ROOT / "payloads" / "wechat"

APP_ID = "wx5f8e3c2a1b0d9e7f"
APP_SECRET = "3b1f0c9e8d7a6b5c4d3e2f1a0b9c8d7e"
TOKEN = "wenzhengTestToken2026"
AES_KEY = base64.b64encode(bytes(range(7, 39))).decode().rstrip("=")  # 43 characters, as WeChat shows it
ACCOUNT = "gh_3f2e1d0c9b8a"  # the official account's original id (ToUserName)
TEMPLATE_ID = "Wz-Status-Tmpl_0001"

WINDOW = timedelta(hours=48)
WINDOW_MESSAGES = 5
# What opens the customer-service window: any message, and these events (WeChat's list).
_WINDOW_EVENTS = frozenset({"subscribe", "click", "scan"})


def payload(name: str) -> str:
    """A recorded push from ``tests/payloads/wechat``."""
    return (PAYLOADS / f"{name}.xml").read_text(encoding="utf-8")


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(**fields: str | int) -> str:
    """A push in WeChat's layout: numbers bare, text in CDATA."""
    body = "".join(
        f"<{name}>{value if isinstance(value, int) else _cdata(value)}</{name}>" for name, value in fields.items()
    )
    return f"<xml>{body}</xml>"


def text_xml(openid: str, content: str, msg_id: int, create_time: int = 1795334400, **extra: str | int) -> str:
    return message_xml(
        ToUserName=ACCOUNT,
        FromUserName=openid,
        CreateTime=create_time,
        MsgType="text",
        Content=content,
        MsgId=msg_id,
        **extra,
    )


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _fields(xml: str) -> dict[str, str]:
    root = ET.fromstring(xml)
    return {child.tag: child.text or "" for child in root}


# --- the API --------------------------------------------------------------------------------------


class FakeWechatApi:
    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        app_id: str = APP_ID,
        app_secret: str = APP_SECRET,
        template_id: str = TEMPLATE_ID,
    ) -> None:
        self.clock = clock
        self.app_id = app_id
        self.app_secret = app_secret
        self.template_id = template_id
        self.app = web.Application()
        self.app.router.add_get("/cgi-bin/token", self._token)
        self.app.router.add_post("/cgi-bin/message/custom/send", self._custom)
        self.app.router.add_post("/cgi-bin/message/template/send", self._template)
        self.app.router.add_post("/cgi-bin/menu/create", self._menu)
        self.token_fetches = 0
        self.valid_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.custom: list[dict[str, Any]] = []
        self.templates: list[dict[str, Any]] = []
        self.menus: list[dict[str, Any]] = []
        self.calls: list[tuple[str, int]] = []  # (endpoint, errcode answered; HTTP status for 5xx)
        self.window_refusals: list[dict[str, Any]] = []
        self.last_action: dict[str, datetime] = {}
        self.sent_in_window: dict[str, int] = {}
        self.unsubscribed: set[str] = set()
        self.msgmenu_supported = True
        self._failures: dict[str, deque[int]] = {}
        self._template_ids: dict[tuple[str, str], int] = {}
        self._msgid = 400000000

    # --- what tests control ---

    def fail(self, endpoint: str, *codes: int) -> None:
        """The next calls to ``endpoint`` (token, custom, template, menu) fail with these codes,
        one each: an errcode, or an HTTP status (500-599)."""
        self._failures.setdefault(endpoint, deque()).extend(codes)

    def user_acted(self, openid: str) -> None:
        """The user wrote (or subscribed, clicked, scanned): the window opens for 48 hours."""
        self.last_action[openid] = self.clock()
        self.sent_in_window[openid] = 0
        self.unsubscribed.discard(openid)

    def retire_tokens(self) -> None:
        """Another party fetched a token: ours are no longer valid (40001)."""
        self.valid_tokens.clear()

    def expire_tokens(self) -> None:
        """Our tokens ran out (42001)."""
        self.expired_tokens |= self.valid_tokens
        self.valid_tokens.clear()

    def texts(self, openid: str) -> list[str]:
        """What ``openid`` saw through customer-service messages, as text."""
        shown = []
        for sent in self.custom:
            if sent["touser"] == openid:
                if sent["msgtype"] == "msgmenu":
                    menu = sent["msgmenu"]
                    shown.append("\n".join([menu["head_content"], *(i["content"] for i in menu["list"])]))
                else:
                    shown.append(sent["text"]["content"])
        return shown

    def templates_to(self, openid: str) -> list[dict[str, Any]]:
        return [t for t in self.templates if t["touser"] == openid]

    # --- endpoints ---

    def _answer(self, endpoint: str, errcode: int, errmsg: str = "ok", **extra: Any) -> web.Response:
        self.calls.append((endpoint, errcode))
        return web.json_response({"errcode": errcode, "errmsg": errmsg, **extra})

    def _failure(self, endpoint: str) -> web.Response | None:
        queued = self._failures.get(endpoint)
        if not queued:
            return None
        code = queued.popleft()
        if 500 <= code < 600:  # an HTTP status, not an errcode
            self.calls.append((endpoint, code))
            return web.Response(status=code, text="upstream trouble")
        return self._answer(endpoint, code, "injected failure")

    def _token_problem(self, endpoint: str, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token", "")
        if not token:
            return self._answer(endpoint, 41001, "access_token missing")
        if token in self.expired_tokens:
            return self._answer(endpoint, 42001, "access_token expired")
        if token not in self.valid_tokens:
            return self._answer(endpoint, 40001, "invalid credential, access_token is invalid or not latest")
        return None

    async def _body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        assert b"\\u" not in raw, "WeChat wants UTF-8 JSON, not \\u escapes"
        data = json.loads(raw.decode("utf-8"))
        assert isinstance(data, dict)
        return data

    async def _token(self, request: web.Request) -> web.Response:
        failed = self._failure("token")
        if failed is not None:
            return failed
        query = request.query
        if query.get("grant_type") != "client_credential":
            return self._answer("token", 40002, "invalid grant_type")
        if query.get("appid") != self.app_id:
            return self._answer("token", 40013, "invalid appid")
        if query.get("secret") != self.app_secret:
            return self._answer("token", 40125, "invalid appsecret")
        self.token_fetches += 1
        token = f"ACCESS_TOKEN_{self.token_fetches}_{secrets.token_hex(4)}"
        self.valid_tokens = {token}  # a new token retires the old ones (after a grace period WeChat has)
        self.calls.append(("token", 0))
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _custom(self, request: web.Request) -> web.Response:
        problem = self._token_problem("custom", request) or self._failure("custom")
        if problem is not None:
            return problem
        body = await self._body(request)
        openid = body["touser"]
        if openid in self.unsubscribed:
            return self._answer("custom", 43004, "require subscribe")
        last = self.last_action.get(openid)
        if last is None or self.clock() - last > WINDOW:
            self.window_refusals.append(body)
            return self._answer("custom", 45015, "response out of time limit or subscription is canceled")
        if self.sent_in_window.get(openid, 0) >= WINDOW_MESSAGES:
            self.window_refusals.append(body)
            return self._answer("custom", 45047, "out of response count limit")
        kind = body.get("msgtype")
        if kind == "msgmenu":
            if not self.msgmenu_supported:
                return self._answer("custom", 40200, "invalid account type")
            menu = body["msgmenu"]
            items = menu["list"]
            assert 0 < len(items) <= 10, "msgmenu takes 1 to 10 items"
            assert all(i["id"].isdigit() and 0 < len(i["content"].encode()) <= 128 for i in items), items
            assert len(menu["head_content"].encode()) <= 1024
        elif kind == "text":
            assert body["text"]["content"], "empty text"
        else:
            return self._answer("custom", 40008, "invalid message type")
        self.custom.append(body)
        self.sent_in_window[openid] = self.sent_in_window.get(openid, 0) + 1
        return self._answer("custom", 0)

    async def _template(self, request: web.Request) -> web.Response:
        problem = self._token_problem("template", request) or self._failure("template")
        if problem is not None:
            return problem
        body = await self._body(request)
        if body.get("template_id") != self.template_id:
            return self._answer("template", 40037, "invalid template_id")
        openid = body["touser"]
        if openid in self.unsubscribed:
            return self._answer("template", 43004, "require subscribe")
        key = (openid, str(body.get("client_msg_id", "")))
        if key[1] and key in self._template_ids:  # 防重入: one message per openid + client_msg_id
            return self._answer("template", 0, msgid=self._template_ids[key])
        data = body["data"]
        assert all(isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()), data
        self._msgid += 1
        self._template_ids[key] = self._msgid
        self.templates.append(body)
        return self._answer("template", 0, msgid=self._msgid)

    async def _menu(self, request: web.Request) -> web.Response:
        problem = self._token_problem("menu", request) or self._failure("menu")
        if problem is not None:
            return problem
        body = await self._body(request)
        buttons = body["button"]
        assert 0 < len(buttons) <= 3
        assert all(b["type"] == "click" and b["key"] and len(b["name"].encode()) <= 16 for b in buttons), buttons
        self.menus.append(body)
        return self._answer("menu", 0)


# --- the push -------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: str
    fields: dict[str, str] = field(default_factory=dict)  # the passive reply, decrypted when encrypted
    encrypted: bool = False

    @property
    def success(self) -> bool:
        return self.status == 200 and self.body == "success"

    @property
    def text(self) -> str:
        return self.fields.get("Content", "")


class WechatPush:
    """WeChat's side of the message push. ``mode``: plain, compat (兼容模式) or safe (安全模式)."""

    def __init__(
        self,
        client: TestClient[Any, Any],
        clock: Callable[[], datetime],
        api: FakeWechatApi | None = None,
        *,
        mode: str = "safe",
        token: str = TOKEN,
        aes_key: str = AES_KEY,
        app_id: str = APP_ID,
        path: str = "/webhooks/wechat",
    ) -> None:
        self.client = client
        self.clock = clock
        self.api = api
        self.mode = mode
        self.token = token
        self.path = path
        self.crypto = WeChatCrypto(token, aes_key, app_id)

    def nonce(self) -> str:
        return str(1_000_000_000 + secrets.randbelow(9_000_000_000))

    def timestamp(self) -> str:
        return str(int(self.clock().timestamp()))

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        """The Encrypt value WeChat would put in the body for ``xml``."""
        envelope = self.crypto.encrypt_message(xml, nonce, timestamp)
        return _fields(envelope)["Encrypt"]

    def envelope(self, xml: str, nonce: str, timestamp: str, *, compat: bool = False) -> tuple[str, str]:
        """(body, msg_signature) of a safe-mode push; ``compat`` keeps the plain fields too."""
        encrypted = self.encrypt(xml, nonce, timestamp)
        if compat:
            body = xml.replace("</xml>", f"<Encrypt>{_cdata(encrypted)}</Encrypt></xml>")
        else:
            body = message_xml(ToUserName=ACCOUNT, Encrypt=encrypted)
        return body, sign(self.token, timestamp, nonce, encrypted)

    async def send(
        self,
        xml: str,
        *,
        mode: str | None = None,
        nonce: str | None = None,
        timestamp: str | None = None,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        """Push ``xml`` as WeChat would. ``query`` overrides parameters (forged signatures and the
        like); ``body`` replaces the body as sent, after signing."""
        mode = mode or self.mode
        nonce = nonce or self.nonce()
        timestamp = timestamp or self.timestamp()
        params = {
            "signature": sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": "",
        }
        data = xml
        if mode in ("safe", "compat"):
            data, msg_signature = self.envelope(xml, nonce, timestamp, compat=mode == "compat")
            params |= {"encrypt_type": "aes", "msg_signature": msg_signature}
        self._learn(xml, params)
        params |= dict(query or {})
        sent = body if body is not None else data.encode("utf-8")
        response = await self.client.post(self.path, params=params, data=sent, headers={"Content-Type": "text/xml"})
        text = await response.text()
        answer = Answer(response.status, text)
        if response.status == 200 and text.startswith("<xml>"):
            answer = self._read_reply(answer, nonce)
        return answer

    def _learn(self, xml: str, params: dict[str, str]) -> None:
        """What the real platform knows because it delivered the push: who acted, and when."""
        try:
            fields = _fields(xml)
        except ET.ParseError:
            return
        openid = fields.get("FromUserName", "")
        params["openid"] = openid
        if self.api is None or not openid:
            return
        kind = fields.get("MsgType", "").lower()
        event = fields.get("Event", "").lower()
        if (kind and kind != "event") or event in _WINDOW_EVENTS:
            self.api.user_acted(openid)
        if event == "unsubscribe":
            self.api.unsubscribed.add(openid)

    def _read_reply(self, answer: Answer, nonce: str) -> Answer:
        envelope = _fields(answer.body)
        if "Encrypt" not in envelope:
            return Answer(answer.status, answer.body, _fields(answer.body), encrypted=False)
        assert envelope["Nonce"] == nonce, "the reply must carry the push's nonce"
        plain = self.crypto.decrypt_message(answer.body, envelope["MsgSignature"], envelope["TimeStamp"], nonce)
        return Answer(answer.status, answer.body, _fields(plain), encrypted=True)


# --- the service under test, wired to the fake ------------------------------------------------------

ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]
ServerFactory = Callable[..., Awaitable[TestServer]]


def wechat_config(
    tmp_path: Path,
    api_url: str,
    *,
    safe: bool = True,
    template: bool = True,
    staff: Sequence[StaffConfig] = (),
    redis_url: str | None = None,
) -> AppConfig:
    """The shipped config with the WeChat channel on, pointed at the fake API."""
    base = make_config(tmp_path, **({"redis_url": redis_url} if redis_url else {}))
    wechat = base.channels.wechat.model_copy(
        update={
            "enabled": True,
            "app_id": APP_ID,
            "app_secret": APP_SECRET,
            "token": TOKEN,
            "encoding_aes_key": AES_KEY if safe else "",
            "api_base_url": api_url,
            "status_template_id": TEMPLATE_ID if template else "",
        }
    )
    channels = base.channels.model_copy(update={"wechat": wechat})
    return base.model_copy(update={"channels": channels, "staff": list(staff)})


@dataclass
class WechatWorld:
    """The real app (workers off; ``deliver`` runs the outbox), the fake WeChat on both sides."""

    client: TestClient[Any, Any]
    api: FakeWechatApi
    push: WechatPush
    clock: Clock
    factory: ClientFactory
    api_url: str
    config: AppConfig

    @property
    def services(self) -> Services:
        return self.client.app[SERVICES]

    @property
    def channel(self) -> WechatChannel:
        channel = self.services.platforms["wechat"]
        assert isinstance(channel, WechatChannel)
        return channel

    async def deliver(self) -> None:
        await self.services.worker.drain()

    async def staff_page(self, name: str) -> TestClient[Any, Any]:
        """A browser logged in on /staff as ``name``."""
        async with self.services.sessions.begin() as session:
            repo = StaffRepository()
            member = await repo.by_name(session, name)
            assert member is not None
            token = await repo.issue_token(session, member.id, self.clock())
        browser = await self.factory(self.client.server)
        response = await browser.post("/staff/api/login", json={"token": token})
        assert response.status == 200, await response.text()
        return browser

    async def close(self) -> None:
        await self.channel.close()


async def start_world(
    aiohttp_server: ServerFactory,
    aiohttp_client: ClientFactory,
    tmp_path: Path,
    *,
    safe: bool = True,
    template: bool = True,
    staff: Sequence[StaffConfig] = (),
    redis_url: str | None = None,
    clock: Clock | None = None,
) -> WechatWorld:
    clock = clock or Clock()
    api = FakeWechatApi(clock)
    api_server = await aiohttp_server(api.app)
    api_url = str(api_server.make_url("")).rstrip("/")
    config = wechat_config(tmp_path, api_url, safe=safe, template=template, staff=staff, redis_url=redis_url)
    client = await aiohttp_client(build_app(config, clock=clock, run_workers=False))
    push = WechatPush(client, clock, api, mode="safe" if safe else "plain")
    return WechatWorld(client, api, push, clock, aiohttp_client, api_url, config)
