"""The government website's chat: a plain page at ``/chat`` and a small JSON + SSE API.

The citizen is an anonymous browser: a random token in an HttpOnly cookie, of which only a hash
is ever stored, so a database or log reader cannot impersonate anyone. Replies to a message come
back in its HTTP answer; pushes (status updates) land in a mailbox that the page's event stream
reads, so they reach an open page at once and a reopened page later.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from adapters.base import (
    BadRequest,
    Capabilities,
    ConversationRef,
    DeliveryContext,
    Inbound,
    InboundSink,
    MediaRef,
    MessageKind,
    Outbound,
    Route,
)
from adapters.http_common import (
    CLIENT_ID,
    EventStreams,
    error_response,
    last_event_id,
    locale_hint,
    parse_client_message,
    read_json,
    reply_inline,
    set_credential_cookie,
    static_asset,
    static_file,
)
from adapters.web.common import STATIC, Mailbox

CHANNEL = "webchat"
ACCOUNT = "web"
COOKIE = "wz_chat"
log = logging.getLogger(__name__)

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
        self._streams = EventStreams(
            mailbox, channel=CHANNEL, poll_seconds=poll_seconds, keepalive_seconds=keepalive_seconds
        )

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

    # --- pages ----------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        return static_file(STATIC, "chat.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        return static_asset(STATIC, request.match_info["name"])

    async def session(self, request: web.Request) -> web.Response:
        """Give the browser its anonymous identity (once; a reload keeps it)."""
        token = request.cookies.get(COOKIE, "")
        response = web.json_response({"ok": True})
        if len(token) < 32:
            token = secrets.token_urlsafe(32)
            set_credential_cookie(
                response, COOKIE, token, path="/chat", secure=self._cookie_secure, max_age=365 * 24 * 3600
            )
        return response

    # --- inbound --------------------------------------------------------------------------------

    async def message(self, request: web.Request) -> web.Response:
        chat_id = self._chat_id(request)
        if chat_id is None:
            return error_response(401, "no_session")
        try:
            msg = parse_client_message(await read_json(request, self._max_body), max_raw=self._max_body)
        except BadRequest as exc:
            return error_response(exc.status, exc.reason)
        inbound = msg.inbound(
            self._ref(chat_id), f"{chat_id}:{msg.client_id}", self._clock(), locale_hint=locale_hint(request)
        )
        return await reply_inline(self._sink, inbound)

    async def upload(self, request: web.Request) -> web.Response:
        chat_id = self._chat_id(request)
        if chat_id is None:
            return error_response(401, "no_session")
        if not request.content_type.startswith("multipart/"):
            return error_response(415, "unsupported_type")
        if request.content_length is not None and request.content_length > self._max_upload + 4096:
            return error_response(413, "too_large")
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
                            return error_response(413, "too_large")
                    data = bytes(buffer)
        except (ValueError, UnicodeDecodeError, AssertionError):
            return error_response(400, "malformed")
        if client_id is None or not CLIENT_ID.match(client_id) or data is None:
            return error_response(400, "malformed")
        base: dict[str, Any] = {
            "channel": CHANNEL,
            "conversation": self._ref(chat_id),
            "message_key": f"{chat_id}:{client_id}",
            "received_at": self._clock(),
            "locale_hint": locale_hint(request),
        }
        ext = image_extension(data[:16])
        if ext is None or not data:
            # Not a photo we can show staff: the dialog answers politely; the bytes are not kept.
            return await reply_inline(
                self._sink, Inbound(kind=MessageKind.UNSUPPORTED, raw="upload:unsupported", **base)
            )
        name = hashlib.sha256(data).hexdigest()[:32] + ext
        await asyncio.to_thread(self._save, name, data)
        media = MediaRef("image", f"webchat:{name}")
        return await reply_inline(
            self._sink, Inbound(kind=MessageKind.IMAGE, media=(media,), raw=f"upload:{name}", **base)
        )

    def _save(self, name: str, data: bytes) -> None:
        self._media_dir.mkdir(parents=True, exist_ok=True)
        target = self._media_dir / name
        if not target.exists():
            partial = target.with_suffix(target.suffix + ".part")
            partial.write_bytes(data)
            partial.replace(target)

    # --- outbound -------------------------------------------------------------------------------

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext | None = None
    ) -> str | None:
        await self._mailbox.append(ref.chat_id, delivery_id, message.to_dict(), self._clock())
        self._streams.wake(ref.chat_id)
        return None  # the mailbox is ours: no platform id to trace

    async def events(self, request: web.Request) -> web.StreamResponse:
        chat_id = self._chat_id(request)
        if chat_id is None:
            return error_response(401, "no_session")
        try:
            after = last_event_id(request)
        except BadRequest as exc:
            return error_response(exc.status, exc.reason)
        return await self._streams.stream(request, chat_id, after)

    async def close(self) -> None:
        """Let open event streams end so the server can shut down promptly."""
        self._streams.close()
