"""WeChat, Telegram and Weibo as the service sees them from the outside: one fake API process.

``python -m bench.fake_platforms --port P`` serves, on 127.0.0.1 only, every platform call the
service makes (the service's ``channels.<name>.api_base_url`` point here):

* WeChat: ``GET /cgi-bin/token``, ``POST /cgi-bin/message/custom/send`` (text and ``msgmenu``),
  ``/cgi-bin/message/template/send``, ``/cgi-bin/menu/create``;
* Telegram: ``/bot<token>/<method>`` (``getMe``, ``sendMessage``, ``answerCallbackQuery``,
  ``editMessageReplyMarkup``, ``editMessageText``, ``setWebhook``, ...), answered as the Bot API does;
* Weibo: ``POST /2/messages/reply.json``.

Every call succeeds and nothing is rate-limited: the pipeline scenario measures the service, and
the outbox scenario (``bench/outbox.py``) measures what Telegram's limits do to delivery.

Every text sent is recorded per recipient (Telegram chat id, WeChat openid, Weibo uid), so the
load generator can read what a citizen received: ``GET /_bench/texts?platform=P&to=ID&after=N
&wait=S`` answers the recipient's messages after the first ``N``, waiting up to ``S`` seconds
(at most ``MAX_WAIT_S``) until there is one. Storage is bounded: past ``MAX_TEXTS`` messages the
recipients written to longest ago are forgotten (the load generator reads a citizen's replies
while that citizen's conversation runs, long before that).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aiohttp import web

from bench.procs import LOOPBACK

PLATFORMS = ("wechat", "telegram", "weibo")
MAX_TEXTS = 500_000  # messages kept over all recipients
MAX_WAIT_S = 30.0  # the longest a long-poll is held
MAX_PAGE = 100  # messages per long-poll answer
BOT_FIRST_NAME = "问政"


@dataclass(frozen=True, slots=True)
class Delivered:
    """One message a citizen received: its text as shown, and what a tap on it needs.

    ``message`` is the Bot API ``Message`` the fake answered ``sendMessage`` with (Telegram), so the
    load generator can press a button on exactly that message; ``menu`` the items of a WeChat
    ``msgmenu`` (id, label), which a citizen taps instead of typing."""

    text: str
    message: dict[str, Any] | None = None
    menu: tuple[tuple[str, str], ...] = ()

    def as_json(self, index: int) -> dict[str, Any]:
        return {"i": index, "text": self.text, "message": self.message, "menu": [list(m) for m in self.menu]}


@dataclass
class Recorder:
    """Messages per recipient (key ``platform:id``), bounded, with a long-poll per recipient."""

    max_texts: int = MAX_TEXTS
    by_recipient: OrderedDict[str, list[Delivered]] = field(default_factory=OrderedDict)
    total: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PLATFORMS, 0))
    calls: dict[str, int] = field(default_factory=dict)
    _arrived: dict[str, asyncio.Event] = field(default_factory=dict)

    def call(self, what: str) -> None:
        self.calls[what] = self.calls.get(what, 0) + 1

    def record(self, platform: str, recipient: str, delivered: Delivered) -> int:
        """Store one message; its index in the recipient's list."""
        key = f"{platform}:{recipient}"
        kept = self.by_recipient.setdefault(key, [])
        self.by_recipient.move_to_end(key)
        kept.append(delivered)
        self.total += 1
        self.counts[platform] = self.counts.get(platform, 0) + 1
        while self.total > self.max_texts and len(self.by_recipient) > 1:
            old_key, old = self.by_recipient.popitem(last=False)
            self.total -= len(old)
            stale = self._arrived.pop(old_key, None)
            if stale is not None:
                stale.set()
        waiting = self._arrived.pop(key, None)
        if waiting is not None:
            waiting.set()
        return len(kept) - 1

    def after(self, platform: str, recipient: str, after: int) -> list[dict[str, Any]]:
        kept = self.by_recipient.get(f"{platform}:{recipient}", [])
        start = max(0, after)
        return [d.as_json(i) for i, d in enumerate(kept[start : start + MAX_PAGE], start=start)]

    async def wait(self, platform: str, recipient: str, after: int, wait_s: float) -> list[dict[str, Any]]:
        """The messages after ``after``; if none yet, wait for one until ``wait_s`` has passed."""
        deadline = time.monotonic() + min(max(0.0, wait_s), MAX_WAIT_S)
        key = f"{platform}:{recipient}"
        for _ in range(1_000):  # each round ends on a new message or the deadline
            found = self.after(platform, recipient, after)
            left = deadline - time.monotonic()
            if found or left <= 0:
                return found
            event = self._arrived.setdefault(key, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)
        return self.after(platform, recipient, after)


class FakePlatforms:
    """The three platform APIs; answers as the real ones do on success."""

    def __init__(self, recorder: Recorder | None = None) -> None:
        self.recorder = recorder or Recorder()
        self._telegram_ids: dict[str, int] = {}
        self._wechat_msgid = 500_000_000

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_get("/_bench/health", self._health)
        app.router.add_get("/_bench/texts", self._texts)
        app.router.add_get("/_bench/stats", self._stats)
        app.router.add_get("/cgi-bin/token", self._wechat_token)
        app.router.add_post("/cgi-bin/message/custom/send", self._wechat_custom)
        app.router.add_post("/cgi-bin/message/template/send", self._wechat_template)
        app.router.add_post("/cgi-bin/menu/create", self._wechat_ok)
        app.router.add_route("*", "/bot{token}/{method}", self._telegram)
        app.router.add_post("/2/messages/reply.json", self._weibo_reply)
        return app

    # --- for the load generator -----------------------------------------------------------------

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _stats(self, request: web.Request) -> web.Response:
        r = self.recorder
        return web.json_response({"texts": r.counts, "calls": r.calls, "recipients": len(r.by_recipient)})

    async def _texts(self, request: web.Request) -> web.Response:
        query = request.query
        platform, recipient = query.get("platform", ""), query.get("to", "")
        if platform not in PLATFORMS or not recipient:
            return web.json_response({"error": "platform and to are required"}, status=400)
        try:
            after = int(query.get("after", "0"))
            wait_s = float(query.get("wait", "0"))
        except ValueError:
            return web.json_response({"error": "after and wait must be numbers"}, status=400)
        found = await self.recorder.wait(platform, recipient, after, wait_s)
        return web.json_response({"texts": found}, dumps=_dumps)

    # --- WeChat ---------------------------------------------------------------------------------

    async def _wechat_token(self, request: web.Request) -> web.Response:
        self.recorder.call("wechat token")
        return web.json_response({"access_token": "bench_" + secrets.token_urlsafe(24), "expires_in": 7200})

    async def _wechat_ok(self, request: web.Request) -> web.Response:
        await request.read()
        self.recorder.call("wechat " + request.path.rsplit("/", 2)[-2])
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _wechat_custom(self, request: web.Request) -> web.Response:
        self.recorder.call("wechat custom")
        body = await _json_body(request)
        openid = str(body.get("touser", ""))
        if body.get("msgtype") == "msgmenu":
            menu = body.get("msgmenu") or {}
            items = tuple((str(i.get("id", "")), str(i.get("content", ""))) for i in menu.get("list", []))
            text = "\n".join([str(menu.get("head_content", "")), *(label for _, label in items)])
            self.recorder.record("wechat", openid, Delivered(text, menu=items))
        else:
            text = str((body.get("text") or {}).get("content", ""))
            self.recorder.record("wechat", openid, Delivered(text))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _wechat_template(self, request: web.Request) -> web.Response:
        self.recorder.call("wechat template")
        body = await _json_body(request)
        data = body.get("data") or {}
        text = "\n".join(str((data.get(k) or {}).get("value", "")) for k in ("first", "keyword1", "remark"))
        self.recorder.record("wechat", str(body.get("touser", "")), Delivered(text))
        self._wechat_msgid += 1
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": self._wechat_msgid})

    # --- Telegram -------------------------------------------------------------------------------

    async def _telegram(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        self.recorder.call(f"telegram {method}")
        params = await telegram_params(request)
        bot_id = token.split(":", 1)[0]
        bot: dict[str, Any] = {"id": int(bot_id) if bot_id.isdigit() else 1, "is_bot": True}
        bot |= {"first_name": BOT_FIRST_NAME, "username": "WenzhengBenchBot"}
        result: Any = True
        if method == "getMe":
            result = {**bot, "can_join_groups": True, "can_read_all_group_messages": False}
        elif method == "sendMessage":
            result = self._telegram_message(params, bot)
        elif method in ("editMessageReplyMarkup", "editMessageText"):
            result = self._telegram_edited(params, bot)
        elif method == "getUpdates":
            result = []
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    def _telegram_message(self, params: dict[str, Any], bot: dict[str, Any]) -> dict[str, Any]:
        chat = str(params.get("chat_id", ""))
        message_id = self._telegram_ids.get(chat, 1000) + 1
        self._telegram_ids[chat] = message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _telegram_chat(chat),
            "from": bot,
            "text": str(params.get("text", "")),
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.recorder.record("telegram", chat, Delivered(message["text"], message=message))
        return message

    @staticmethod
    def _telegram_edited(params: dict[str, Any], bot: dict[str, Any]) -> dict[str, Any] | bool:
        chat = params.get("chat_id")
        if chat is None:
            return True  # an inline message: Telegram answers True
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or 0),
            "date": int(time.time()),
            "chat": _telegram_chat(str(chat)),
            "from": bot,
            "text": str(params.get("text", "")),
        }
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            message["reply_markup"] = markup
        return message

    # --- Weibo ----------------------------------------------------------------------------------

    async def _weibo_reply(self, request: web.Request) -> web.Response:
        self.recorder.call("weibo reply")
        form = await request.post()
        receiver = str(form.get("receiver_id", ""))
        raw = str(form.get("data", ""))
        try:
            data = json.loads(unquote_plus(raw))
            text = str(data.get("text", "")) if isinstance(data, dict) else ""
        except ValueError:
            text = ""
        self.recorder.record("weibo", receiver, Delivered(text))
        return web.json_response(
            {"result": True, "sender_id": "1", "receiver_id": receiver, "type": "text", "data": raw}, dumps=_dumps
        )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _telegram_chat(chat: str) -> dict[str, Any]:
    ident = int(chat) if chat.lstrip("-").isdigit() else 0
    if ident < 0:
        return {"id": ident, "type": "supergroup", "title": "工作群"}
    return {"id": ident, "type": "private", "first_name": "市民"}


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read())
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def telegram_params(request: web.Request) -> dict[str, Any]:
    """PTB posts form fields whose structured values are JSON; JSON bodies are read too."""
    if request.content_type == "application/json":
        return await _json_body(request)
    params: dict[str, Any] = {}
    for key, value in (await request.post()).items():
        text = value if isinstance(value, str) else ""
        if key == "reply_markup":
            with contextlib.suppress(ValueError):
                params[key] = json.loads(text)
                continue
        params[key] = text
    return params


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fake_platforms", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(FakePlatforms().app(), host=LOOPBACK, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
