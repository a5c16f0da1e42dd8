"""The government website's chat: a plain page at ``/chat`` and a small JSON + SSE API.

The citizen is an anonymous browser: a random token in an HttpOnly cookie, of which only a hash
is ever stored, so a database or log reader cannot impersonate anyone. Replies to a message come
back in its HTTP answer; pushes (status updates) land in a mailbox that the page's event stream
reads, so they reach an open page at once and a reopened page later.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from aiohttp import BodyPartReader, web

from adapters.base import (
    Capabilities,
    ConversationRef,
    Handled,
    Inbound,
    InboundSink,
    Location,
    MediaRef,
    MessageKind,
    Outbound,
    Route,
    TemporarilyUnavailable,
)

CHANNEL = "webchat"
ACCOUNT = "web"
COOKIE = "wz_chat"
STATIC = Path(__file__).with_name("webchat_static")
log = logging.getLogger(__name__)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}
_MAX_TEXT = 20_000  # longer texts are refused here; the dialog explains its own, lower limit politely
_MAX_LABEL = 300

# What the browser shows when the request itself failed; replies from the dialog come from the dialog.
_ERRORS: dict[str, tuple[str, str]] = {
    "malformed": (
        "消息格式有误，请刷新页面后重试。",
        "The message could not be read. Please reload the page and retry.",
    ),
    "too_large": (
        "内容太大了，请缩短文字或换一张较小的照片。",
        "That is too large. Shorten the text or send a smaller photo.",
    ),
    "unavailable": (
        "系统繁忙，请稍后重试，您的消息不会丢失。",
        "The service is busy. Please retry shortly; nothing is lost.",
    ),
    "no_session": ("会话已失效，请刷新页面。", "Your session has expired. Please reload the page."),
    "unsupported_type": ("请求类型不受支持。", "Unsupported request type."),
}

_IMAGE_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, ".jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, ".png"),
    (b"GIF87a", 0, ".gif"),
    (b"GIF89a", 0, ".gif"),
    (b"WEBP", 8, ".webp"),
    (b"ftypheic", 4, ".heic"),
    (b"ftypheix", 4, ".heic"),
    (b"ftypmif1", 4, ".heic"),
)


def image_extension(head: bytes) -> str | None:
    """The file type from its first bytes; the browser's declared type is not trusted."""
    for signature, offset, ext in _IMAGE_SIGNATURES:
        if head[offset : offset + len(signature)] == signature and (ext != ".webp" or head[:4] == b"RIFF"):
            return ext
    return None


class Mailbox(Protocol):
    async def append(self, chat_id: str, delivery_id: str, payload: dict[str, Any], now: datetime) -> None: ...
    async def read_after(self, chat_id: str, after_id: int, limit: int = 100) -> list[tuple[int, dict[str, Any]]]: ...


def _error(status: int, code: str) -> web.Response:
    zh, en = _ERRORS[code]
    return web.json_response({"error": code, "message": {"zh": zh, "en": en}}, status=status)


class WebchatChannel:
    name = CHANNEL
    capabilities = Capabilities(inline_reply=True, buttons=True, location_request=True)

    def __init__(
        self,
        sink: InboundSink,
        mailbox: Mailbox,
        media_dir: Path,
        clock: Callable[[], datetime],
        *,
        max_body_bytes: int = 262_144,
        max_upload_bytes: int = 5 * 1024 * 1024,
        cookie_secure: bool = False,
        poll_seconds: float = 2.0,
        keepalive_seconds: float = 15.0,
    ) -> None:
        self._sink = sink
        self._mailbox = mailbox
        self._media_dir = media_dir
        self._clock = clock
        self._max_body = max_body_bytes
        self._max_upload = max_upload_bytes
        self._cookie_secure = cookie_secure
        self._poll = poll_seconds
        self._keepalive = keepalive_seconds
        self._listeners: dict[str, set[asyncio.Event]] = {}
        self._closing = asyncio.Event()

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/chat", self.page),
            Route("GET", "/chat/static/{name}", self.static),
            Route("POST", "/chat/api/session", self.session),
            Route("POST", "/chat/api/messages", self.message),
            Route("POST", "/chat/api/upload", self.upload),
            Route("GET", "/chat/api/events", self.events),
        ]

    # --- identity -------------------------------------------------------------------------------

    @staticmethod
    def chat_id_for(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()[:40]

    def _chat_id(self, request: web.Request) -> str | None:
        token = request.cookies.get(COOKIE, "")
        return self.chat_id_for(token) if len(token) >= 32 else None

    def _ref(self, chat_id: str) -> ConversationRef:
        return ConversationRef(CHANNEL, ACCOUNT, chat_id)

    @staticmethod
    def _locale_hint(request: web.Request) -> str | None:
        """The browser's first language, so an English browser is answered in English from the start."""
        first = request.headers.get("Accept-Language", "").split(",")[0].strip().lower()
        return "zh" if first.startswith("zh") else "en" if first.startswith("en") else None

    # --- pages ----------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        return self._file("chat.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if not re.fullmatch(r"[a-z0-9_-]+\.(js|css|svg)", name):
            raise web.HTTPNotFound()
        return self._file(name)

    def _file(self, name: str) -> web.StreamResponse:
        path = STATIC / name
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(
            body=path.read_bytes(),
            content_type=_STATIC_TYPES.get(path.suffix, "application/octet-stream"),
            charset="utf-8",
            headers={
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
                "connect-src 'self'; frame-ancestors 'self'",
            },
        )

    async def session(self, request: web.Request) -> web.Response:
        """Give the browser its anonymous identity (once; a reload keeps it)."""
        token = request.cookies.get(COOKIE, "")
        response = web.json_response({"ok": True})
        if len(token) < 32:
            token = secrets.token_urlsafe(32)
            response.set_cookie(
                COOKIE,
                token,
                max_age=365 * 24 * 3600,
                path="/chat",
                httponly=True,
                samesite="Strict",
                secure=self._cookie_secure,
            )
        return response

    # --- inbound --------------------------------------------------------------------------------

    async def message(self, request: web.Request) -> web.Response:
        chat_id = self._chat_id(request)
        if chat_id is None:
            return _error(401, "no_session")
        if request.content_type != "application/json":
            return _error(415, "unsupported_type")
        if request.content_length is not None and request.content_length > self._max_body:
            return _error(413, "too_large")
        body = await request.content.read(self._max_body + 1)
        if len(body) > self._max_body:
            return _error(413, "too_large")
        try:
            inbound = self._parse_message(chat_id, json.loads(body), self._locale_hint(request))
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            return _error(400, "malformed")
        return await self._dispatch(inbound)

    def _parse_message(self, chat_id: str, data: Any, locale_hint: str | None) -> Inbound:
        if not isinstance(data, dict):
            raise ValueError("not an object")
        client_id = data["id"]
        if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
            raise ValueError("bad id")
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "conversation": self._ref(chat_id),
            "message_key": f"{chat_id}:{client_id}",
            "received_at": self._clock(),
            "raw": json.dumps(data, ensure_ascii=False)[: self._max_body],
            "locale_hint": locale_hint,
        }
        if "choice" in data:
            choice = data["choice"]
            if not isinstance(choice, dict) or not isinstance(choice.get("id"), str) or len(choice["id"]) > 64:
                raise ValueError("bad choice")
            label = choice.get("label", "")
            return Inbound(kind=MessageKind.CHOICE, choice_id=choice["id"], text=str(label)[:_MAX_LABEL], **base)
        if "location" in data:
            loc = data["location"]
            lat, lon = float(loc["lat"]), float(loc["lon"])
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError("coordinates out of range")
            label = loc.get("label") or ""
            if not isinstance(label, str):
                raise ValueError("bad label")
            return Inbound(kind=MessageKind.LOCATION, location=Location(lat, lon, label[:_MAX_LABEL]), **base)
        text = data["text"]
        if not isinstance(text, str) or len(text) > _MAX_TEXT:
            raise ValueError("bad text")
        return Inbound(kind=MessageKind.TEXT, text=text, **base)

    async def upload(self, request: web.Request) -> web.Response:
        chat_id = self._chat_id(request)
        if chat_id is None:
            return _error(401, "no_session")
        if not request.content_type.startswith("multipart/"):
            return _error(415, "unsupported_type")
        if request.content_length is not None and request.content_length > self._max_upload + 4096:
            return _error(413, "too_large")
        client_id: str | None = None
        data: bytes | None = None
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "id":
                    client_id = (await part.read(decode=True)).decode()[:80]
                elif part.name == "file":
                    buffer = bytearray()
                    while chunk := await part.read_chunk(65536):
                        buffer.extend(chunk)
                        if len(buffer) > self._max_upload:
                            return _error(413, "too_large")
                    data = bytes(buffer)
        except (ValueError, UnicodeDecodeError, AssertionError):
            return _error(400, "malformed")
        if client_id is None or not _CLIENT_ID.match(client_id) or data is None:
            return _error(400, "malformed")
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "conversation": self._ref(chat_id),
            "message_key": f"{chat_id}:{client_id}",
            "received_at": self._clock(),
            "locale_hint": self._locale_hint(request),
        }
        ext = image_extension(data[:16])
        if ext is None or not data:
            # Not a photo we can show staff: the dialog answers politely; the bytes are not kept.
            return await self._dispatch(Inbound(kind=MessageKind.UNSUPPORTED, raw="upload:unsupported", **base))
        name = hashlib.sha256(data).hexdigest()[:32] + ext
        await asyncio.to_thread(self._save, name, data)
        media = MediaRef("image", f"webchat:{name}")
        return await self._dispatch(Inbound(kind=MessageKind.IMAGE, media=(media,), raw=f"upload:{name}", **base))

    def _save(self, name: str, data: bytes) -> None:
        self._media_dir.mkdir(parents=True, exist_ok=True)
        target = self._media_dir / name
        if not target.exists():
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(target)

    async def _dispatch(self, inbound: Inbound) -> web.Response:
        try:
            handled: Handled = await self._sink.handle(inbound, inline=True)
        except TemporarilyUnavailable:
            return _error(503, "unavailable")
        return web.json_response(
            {"replies": [r.to_dict() for r in handled.replies], "duplicate": handled.duplicate},
            dumps=lambda v: json.dumps(v, ensure_ascii=False),
        )

    # --- outbound -------------------------------------------------------------------------------

    async def send(self, ref: ConversationRef, message: Outbound, delivery_id: str) -> None:
        await self._mailbox.append(ref.chat_id, delivery_id, message.to_dict(), self._clock())
        for listener in self._listeners.get(ref.chat_id, ()):
            listener.set()

    async def events(self, request: web.Request) -> web.StreamResponse:
        chat_id = self._chat_id(request)
        if chat_id is None:
            return _error(401, "no_session")
        try:
            after = int(request.headers.get("Last-Event-ID") or request.query.get("after") or 0)
        except ValueError:
            return _error(400, "malformed")
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        wake = asyncio.Event()
        self._listeners.setdefault(chat_id, set()).add(wake)
        idle = 0.0
        try:
            await response.write(b"retry: 3000\n\n")
            while not self._closing.is_set():
                for event_id, payload in await self._mailbox.read_after(chat_id, after):
                    data = json.dumps(payload, ensure_ascii=False)
                    await response.write(f"id: {event_id}\nevent: message\ndata: {data}\n\n".encode())
                    after = event_id
                    idle = 0.0
                wake.clear()
                try:
                    await asyncio.wait_for(wake.wait(), self._poll)  # polling covers other workers' pushes
                except TimeoutError:
                    idle += self._poll
                if idle >= self._keepalive:
                    await response.write(b": keepalive\n\n")
                    idle = 0.0
        except (ConnectionResetError, ConnectionError):
            pass
        except Exception as exc:  # storage trouble: end the stream, the browser reconnects by itself
            log.warning("web chat event stream ended: %s", exc, extra={"channel": CHANNEL})
        finally:
            listeners = self._listeners.get(chat_id, set())
            listeners.discard(wake)
            if not listeners:
                self._listeners.pop(chat_id, None)
        return response

    async def close(self) -> None:
        """Let open event streams end so the server can shut down promptly."""
        self._closing.set()
        for listeners in self._listeners.values():
            for listener in listeners:
                listener.set()
