"""HTTP plumbing shared by the browser channels (the citizens' /chat, the staff's /staff).

Both pages talk the same small JSON + SSE protocol; keeping its rules in one place means both
refuse bad input with the same answers, serve their files under the same CSP, and a fix to the
event stream reaches both. Nothing here knows who the caller is: each channel authenticates in
its own way and hands over a chat id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from aiohttp import web

from adapters.base import (
    BadRequest,
    ConversationRef,
    Handled,
    Inbound,
    InboundSink,
    Location,
    MessageKind,
    TemporarilyUnavailable,
)
from adapters.sanitize import clean_json, location

log = logging.getLogger(__name__)

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_TEXT = 20_000  # longer texts are refused here; the dialogs explain their own, lower limits politely
MAX_LABEL = 300
MAX_CHOICE_ID = 64

# What the browser shows when the request itself failed; replies from a dialog come from the dialog.
# A channel may pass its own mapping (e.g. ``{**ERRORS, "no_session": ...}``) to error_response.
ERRORS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
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
)

STATIC_TYPES: Mapping[str, str] = MappingProxyType(
    {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}
)
_ASSET_NAME = re.compile(r"[a-z0-9_-]+\.(js|css|svg)")
_PAGE_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; frame-ancestors 'self'",
    }
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- answers --------------------------------------------------------------------------------------


def error_response(status: int, code: str, messages: Mapping[str, tuple[str, str]] = ERRORS) -> web.Response:
    """The one error shape both pages understand: a machine code and a sentence in each language."""
    zh, en = messages[code]
    return web.json_response({"error": code, "message": {"zh": zh, "en": en}}, status=status)


async def reply_inline(sink: InboundSink, inbound: Inbound) -> web.Response:
    """Hand a browser message to the dispatcher and answer with its replies. Unstored means 503,
    so the page sends the same message (same id) again rather than believing it arrived."""
    try:
        handled: Handled = await sink.handle(inbound, inline=True)
    except TemporarilyUnavailable:
        return error_response(503, "unavailable")
    return web.json_response(
        {"replies": [r.to_dict() for r in handled.replies], "duplicate": handled.duplicate}, dumps=_dumps
    )


# --- files ----------------------------------------------------------------------------------------


def static_file(directory: Path, name: str) -> web.Response:
    """A page or asset, with headers that forbid inline code and framing by other sites."""
    path = directory / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(),
        content_type=STATIC_TYPES.get(path.suffix, "application/octet-stream"),
        charset="utf-8",
        headers=dict(_PAGE_HEADERS),
    )


def static_asset(directory: Path, name: str) -> web.Response:
    """For ``…/static/{name}``: only plain script, style and icon names, so no path can climb out
    of the directory and no page or config is served from there."""
    if not _ASSET_NAME.fullmatch(name):
        raise web.HTTPNotFound()
    return static_file(directory, name)


# --- requests -------------------------------------------------------------------------------------


def locale_hint(request: web.Request) -> str | None:
    """The browser's first language, so an English browser is answered in English from the start."""
    first = request.headers.get("Accept-Language", "").split(",")[0].strip().lower()
    return "zh" if first.startswith("zh") else "en" if first.startswith("en") else None


async def read_body(request: web.Request, max_bytes: int) -> bytes:
    """The whole body, or ``BadRequest(413)`` as soon as it passes ``max_bytes``. A single
    ``read(n)`` returns only what has arrived so far, so a body sent in several packets must be
    read to its end in a loop (else a large message would be cut short and refused as malformed)."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(65536):
        size += len(chunk)
        if size > max_bytes:
            raise BadRequest(413, "too_large")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: web.Request, max_bytes: int) -> Any:
    """The decoded JSON body, read no further than ``max_bytes`` whatever the headers claim.

    Raises ``BadRequest`` with status 415 (not JSON), 413 (too large) or 400 (unreadable); its
    ``reason`` is an ``ERRORS`` code.
    """
    if request.content_type != "application/json":
        raise BadRequest(415, "unsupported_type")
    if request.content_length is not None and request.content_length > max_bytes:
        raise BadRequest(413, "too_large")
    body = await read_body(request, max_bytes)
    try:
        # Cleaned at once (lone surrogates, also from raw CESU-8 bytes, which Python's reader
        # accepts; NUL): what is hashed, kept as raw and stored is the same storable text.
        return clean_json(json.loads(body))
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" nested past the parser's depth
        raise BadRequest(400, "malformed") from exc


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """One message typed or tapped on a page, checked but not yet tied to a conversation."""

    client_id: str  # the page's own id for the message: the same on every retry
    kind: MessageKind
    raw: str
    text: str = ""
    choice_id: str | None = None
    location: Location | None = None

    def inbound(
        self,
        conversation: ConversationRef,
        message_key: str,
        received_at: datetime,
        *,
        locale_hint: str | None = None,
        sender_id: str | None = None,
    ) -> Inbound:
        return Inbound(
            channel=conversation.channel,
            conversation=conversation,
            message_key=message_key,
            kind=self.kind,
            received_at=received_at,
            text=self.text,
            location=self.location,
            choice_id=self.choice_id,
            sender_id=sender_id,
            raw=self.raw,
            locale_hint=locale_hint,
        )


def parse_client_message(data: Any, *, max_raw: int, locations: bool = True) -> ClientMessage:
    """``{"id", "text"}``, ``{"id", "choice": {"id", "label"}}`` or (with ``locations``)
    ``{"id", "location": {"lat", "lon", "label"}}``. Anything else raises ``BadRequest(400)``,
    so a page bug is answered, never half-filed."""
    try:
        return _parse_client_message(data, max_raw, locations)
    except (ValueError, TypeError, KeyError) as exc:
        raise BadRequest(400, "malformed") from exc


def _parse_client_message(data: Any, max_raw: int, locations: bool) -> ClientMessage:
    if not isinstance(data, dict):
        raise ValueError("not an object")
    client_id = data["id"]
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise ValueError("bad id")
    raw = _dumps(data)[:max_raw]
    if "choice" in data:
        choice = data["choice"]
        if not isinstance(choice, dict) or not isinstance(choice.get("id"), str) or len(choice["id"]) > MAX_CHOICE_ID:
            raise ValueError("bad choice")
        label = str(choice.get("label", ""))[:MAX_LABEL]
        return ClientMessage(client_id, MessageKind.CHOICE, raw, text=label, choice_id=choice["id"])
    if "location" in data:
        if not locations:
            raise ValueError("locations are not taken here")
        loc = data["location"]
        if not isinstance(loc, dict):
            raise ValueError("bad location")
        place = loc.get("label") or ""
        if not isinstance(place, str):
            raise ValueError("bad label")
        # Finite and on the globe; a 401-digit integer is refused, not an OverflowError (500).
        pin = location(loc["lat"], loc["lon"], place[:MAX_LABEL])
        return ClientMessage(client_id, MessageKind.LOCATION, raw, location=pin)
    text = data["text"]
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise ValueError("bad text")
    return ClientMessage(client_id, MessageKind.TEXT, raw, text=text)


def set_credential_cookie(
    response: web.StreamResponse, name: str, value: str, *, path: str, secure: bool, max_age: int | None
) -> None:
    """Scripts cannot read it (HttpOnly) and other sites cannot send it (SameSite=Strict), which is
    also what protects the JSON API against cross-site requests."""
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="Strict", secure=secure)


def last_event_id(request: web.Request) -> int:
    """Where an event stream resumes: the browser's ``Last-Event-ID`` on a reconnect, else the page's
    ``?after=`` (its last id, kept across reloads). Raises ``BadRequest(400)`` when not a number."""
    try:
        return int(request.headers.get("Last-Event-ID") or request.query.get("after") or 0)
    except ValueError as exc:
        raise BadRequest(400, "malformed") from exc


# --- pushes ---------------------------------------------------------------------------------------


class MailboxReader(Protocol):
    async def read_after(self, chat_id: str, after_id: int, limit: int = 100) -> list[tuple[int, dict[str, Any]]]: ...


class EventStreams:
    """The open event streams of one channel, by chat id.

    A push is written to the mailbox first and then wakes the streams of its chat in this process;
    the poll covers pushes written by other workers. The mailbox id is the SSE id, so a reconnect
    resumes exactly after the last message the page saw.
    """

    def __init__(
        self, mailbox: MailboxReader, *, channel: str, poll_seconds: float = 2.0, keepalive_seconds: float = 15.0
    ) -> None:
        self._mailbox = mailbox
        self._channel = channel
        self._poll = poll_seconds
        self._keepalive = keepalive_seconds
        self._listeners: dict[str, set[asyncio.Event]] = {}
        self._closing = asyncio.Event()

    def wake(self, chat_id: str) -> None:
        for listener in self._listeners.get(chat_id, ()):
            listener.set()

    async def stream(
        self,
        request: web.Request,
        chat_id: str,
        after: int,
        *,
        allowed: Callable[[], Awaitable[bool]] | None = None,
    ) -> web.StreamResponse:
        """Serve ``chat_id``'s messages after ``after`` until the browser leaves or ``close()``.

        ``allowed`` is asked again before each batch and each keepalive: a credential revoked
        while the page is open ends the stream instead of leaking later pushes to it.
        """
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
                wake.clear()  # before reading: a push that lands during the read wakes the next round
                batch = await self._mailbox.read_after(chat_id, after)
                if batch and allowed is not None and not await allowed():
                    break
                for event_id, payload in batch:
                    await response.write(f"id: {event_id}\nevent: message\ndata: {_dumps(payload)}\n\n".encode())
                    after = event_id
                    idle = 0.0
                try:
                    await asyncio.wait_for(wake.wait(), self._poll)  # polling covers other workers' pushes
                except TimeoutError:
                    idle += self._poll
                if idle >= self._keepalive:
                    if allowed is not None and not await allowed():
                        break
                    await response.write(b": keepalive\n\n")
                    idle = 0.0
        except (ConnectionResetError, ConnectionError):
            pass
        except Exception as exc:  # storage trouble: end the stream, the browser reconnects by itself
            log.warning("%s event stream ended: %s", self._channel, exc, extra={"channel": self._channel})
        finally:
            listeners = self._listeners.get(chat_id, set())
            listeners.discard(wake)
            if not listeners:
                self._listeners.pop(chat_id, None)
        return response

    def close(self) -> None:
        """Let open streams end so the server can shut down promptly."""
        self._closing.set()
        for listeners in self._listeners.values():
            for listener in listeners:
                listener.set()
