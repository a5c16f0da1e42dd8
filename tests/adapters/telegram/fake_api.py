"""A fake Telegram Bot API on loopback, for python-telegram-bot's ``Bot`` to talk to over HTTP.

It serves ``/bot<token>/<method>`` the way Telegram does (form-encoded parameters with JSON
values, ``{"ok": …, "result": …}`` answers, ``error_code``/``description``/``parameters`` on
failure), records every call, and checks what Telegram would punish:

- more than one message per second in one chat, more than twenty per minute in a group, or
  more than thirty per second overall (messages and edits), measured on the test's clock;
- texts over 4096 characters (UTF-16 units), empty texts, ``callback_data`` over 64 bytes;
- a reply keyboard with a location button sent to a group.

Every such attempt is a *violation*: the fixture that owns the fake fails the test if any
happened. A test can also make it answer 429 with ``retry_after``, 403, 400 or 5xx, and queue
updates for ``getUpdates``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

JSON_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "offset",
        "timeout",
        "limit",
        "drop_pending_updates",
        "max_connections",
        "show_alert",
        "cache_time",
        "link_preview_options",
        "reply_parameters",
        "disable_notification",
        "protect_content",
    }
)
MESSAGE_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: datetime
    status: int = 200
    result: Any = None

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id"))

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def markup(self) -> dict[str, Any]:
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else {}

    @property
    def callback_data(self) -> list[str]:
        rows = self.markup.get("inline_keyboard", [])
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


@dataclass
class Failure:
    method: str
    status: int
    description: str
    chat_id: str | None
    retry_after: int | None
    times: int
    migrate_to: int | None = None


@dataclass
class FakeTelegramAPI:
    clock: Callable[[], datetime]
    token: str
    username: str = "WenzhengBot"
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    webhook: dict[str, Any] | None = None
    commands: dict[str | None, list[dict[str, str]]] = field(default_factory=dict)
    _failures: list[Failure] = field(default_factory=list)
    _blocked: set[str] = field(default_factory=set)
    _next_id: dict[str, int] = field(default_factory=dict)
    _messages: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    _per_chat: dict[str, datetime] = field(default_factory=dict)
    _group_minute: dict[str, deque[datetime]] = field(default_factory=dict)
    _second: deque[datetime] = field(default_factory=deque)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":")[0])

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        return app

    # --- what a test sets up ----------------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int,
        *,
        chat_id: str | None = None,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        migrate_to: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` (to ``chat_id``, if given) fail with ``status``;
        ``migrate_to`` answers as for a group that became a supergroup."""
        default = {
            429: f"Too Many Requests: retry after {retry_after}",
            403: "Forbidden: bot was blocked by the user",
            400: "Bad Request: chat not found",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        self._failures.append(
            Failure(
                method, status, description or default.get(status, "Error"), chat_id, retry_after, times, migrate_to
            )
        )

    def block(self, chat_id: str) -> None:
        """The user blocked the bot: every send to them is 403 from now on."""
        self._blocked.add(chat_id)

    def queue_update(self, update: dict[str, Any]) -> None:
        self._updates.append(update)
        self._arrived.set()

    # --- what a test reads ------------------------------------------------------------------------

    def sent(self, chat_id: str | int | None = None) -> list[Call]:
        """Messages delivered (sendMessage answered 200), oldest first."""
        return [
            c
            for c in self.calls
            if c.method == "sendMessage" and c.status == 200 and (chat_id is None or c.chat_id == str(chat_id))
        ]

    def texts(self, chat_id: str | int) -> list[str]:
        return [c.text for c in self.sent(chat_id)]

    def attempts(self, chat_id: str | int | None = None, method: str = "sendMessage") -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.chat_id == str(chat_id))]

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # --- the server -------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        now = self.clock()
        call = Call(method, params, now)
        self.calls.append(call)
        if method in MESSAGE_METHODS:
            self._check_limits(method, call)
        failure = self._failure_for(method, call.chat_id)
        if failure is not None:
            call.status = failure.status
            extra: dict[str, Any] = {}
            if failure.retry_after is not None:
                extra["retry_after"] = failure.retry_after
            if failure.migrate_to is not None:
                extra["migrate_to_chat_id"] = failure.migrate_to
            return self._error(failure.status, failure.description, extra)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            call.status = 404
            return self._error(404, "Not Found")
        status, result = await handler(params)
        call.status = status
        call.result = result
        if status != 200:
            return self._error(status, str(result))
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            text = value if isinstance(value, str) else ""
            if key in JSON_PARAMS:
                try:
                    params[key] = json.loads(text)
                    continue
                except ValueError:
                    pass
            params[key] = text
        return params

    @staticmethod
    def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    def _failure_for(self, method: str, chat_id: str) -> Failure | None:
        if method == "sendMessage" and chat_id in self._blocked:
            return Failure(method, 403, "Forbidden: bot was blocked by the user", chat_id, None, 1)
        for failure in self._failures:
            if failure.method == method and failure.times > 0 and failure.chat_id in (None, chat_id):
                failure.times -= 1
                return failure
        return None

    def _check_limits(self, method: str, call: Call) -> None:
        """Attempts count, answered or not: Telegram counts what it receives."""
        now, chat = call.at, call.chat_id
        while self._second and (now - self._second[0]).total_seconds() >= 1.0:
            self._second.popleft()
        self._second.append(now)
        if len(self._second) > 30:
            self.violations.append(f"{len(self._second)} messages within one second at {now:%H:%M:%S.%f}")
        if method != "sendMessage":
            return
        last = self._per_chat.get(chat)
        if last is not None and (now - last).total_seconds() < 1.0:
            gap = (now - last).total_seconds()
            self.violations.append(f"chat {chat}: two messages {gap:.3f}s apart ({call.text[:30]!r})")
        self._per_chat[chat] = now
        if chat.startswith("-"):
            minute = self._group_minute.setdefault(chat, deque())
            while minute and (now - minute[0]).total_seconds() >= 60.0:
                minute.popleft()
            minute.append(now)
            if len(minute) > 20:
                self.violations.append(f"group {chat}: {len(minute)} messages within one minute")

    # --- methods ------------------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "问政", "username": self.username}

    async def _m_getMe(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False}

    async def _m_sendMessage(self, params: dict[str, Any]) -> tuple[int, Any]:
        chat = str(params.get("chat_id"))
        text = str(params.get("text", ""))
        units = len(text.encode("utf-16-le")) // 2
        problem = None
        if not text.strip():
            problem = "Bad Request: message text is empty"
        elif units > 4096:
            problem = "Bad Request: message is too long"
        markup = params.get("reply_markup") if isinstance(params.get("reply_markup"), dict) else {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > 64:
                    problem = "Bad Request: BUTTON_DATA_INVALID"
        keyboard = markup.get("keyboard", [])
        if chat.startswith("-") and any(b.get("request_location") for row in keyboard for b in row):
            problem = "Bad Request: location requests are available only in private chats"
        if problem is not None:
            self.violations.append(f"sendMessage to {chat}: {problem}")
            return 400, problem
        message_id = self._next_id.get(chat, 100) + 1
        self._next_id[chat] = message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(self.clock().timestamp()),
            "chat": self._chat(chat),
            "from": self._bot_user(),
            "text": text,
        }
        if "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat, message_id)] = message
        return 200, message

    async def _edit(self, params: dict[str, Any], field_name: str) -> tuple[int, Any]:
        key = (str(params.get("chat_id")), int(params.get("message_id", 0)))
        message = self._messages.get(key)
        if message is None:
            return 400, "Bad Request: message to edit not found"
        if field_name == "reply_markup":
            markup = params.get("reply_markup") or {}
            if markup == message.get("reply_markup", {}):
                return 400, "Bad Request: message is not modified"
            message["reply_markup"] = markup
        else:
            message["text"] = str(params.get("text", ""))
        return 200, message

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> tuple[int, Any]:
        return await self._edit(params, "reply_markup")

    async def _m_editMessageText(self, params: dict[str, Any]) -> tuple[int, Any]:
        return await self._edit(params, "text")

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, Any]:
        return 200, True

    async def _m_setWebhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        if not str(params.get("url", "")).startswith("https://"):
            return 400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
        self.webhook = params
        return 200, True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> tuple[int, Any]:
        self.webhook = None
        return 200, True

    async def _m_setMyCommands(self, params: dict[str, Any]) -> tuple[int, Any]:
        language = params.get("language_code") or None
        self.commands[language] = list(params.get("commands", []))
        return 200, True

    async def _m_getUpdates(self, params: dict[str, Any]) -> tuple[int, Any]:
        if self.webhook is not None:
            return 409, "Conflict: can't use getUpdates method while webhook is active"
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        ready = [u for u in self._updates if u["update_id"] >= offset]
        if not ready and timeout > 0:
            # Held briefly, not for the whole timeout, so a test server shuts down at once.
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(timeout, 0.2))
            ready = [u for u in self._updates if u["update_id"] >= offset]
        return 200, ready

    def _chat(self, chat: str) -> dict[str, Any]:
        if chat.startswith("-"):
            return {"id": int(chat), "type": "supergroup", "title": "城市管理局 工作群"}
        return {"id": int(chat), "type": "private", "first_name": "市民"}
