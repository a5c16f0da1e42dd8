"""The WeChat Official Account channel (微信公众号): message push in, replies out.

Inbound, ``GET|POST /webhooks/wechat`` speaks WeChat's message push: URL verification, then XML
pushes in plain mode or in 安全模式 (AES, signed with ``msg_signature``). Every push is
authenticated before anything is stored: signature (compared in constant time), a timestamp no
more than five minutes off, a nonce not seen with another body. WeChat waits five seconds for an
answer and retries three times, so the dispatcher gets about four: a dialog done in time is
answered with a passive reply (one message; the rest go through the outbox), a slower one with
``success`` and its replies later. Redeliveries are keyed on ``MsgId`` (events: sender, time,
event), so they get the stored answer and cause nothing new.

Outbound (``send.py``; the outbox worker calls ``send``) uses customer-service messages while WeChat allows
them (48 hours after the citizen's last message, at most five), with tappable ``msgmenu`` choices,
and falls back to a template message for status updates and rating prompts once the window has
closed. The channel keeps no state of its own: windows come from the ``DeliveryContext``; the
access_token and menu ids live in the shared session store; nonces are recorded with the message,
in the database.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web

from adapters.base import (
    BadRequest,
    Capabilities,
    ConversationRef,
    DeliveryContext,
    Inbound,
    InboundSink,
    Location,
    MediaRef,
    MessageKind,
    Outbound,
    RequestNonce,
    Route,
    TemporarilyUnavailable,
    arrival,
)
from adapters.wechat.api import (
    MENU_COMMANDS,
    Credentials,
    TokenStore,
    WechatApi,
)
from adapters.wechat.crypto import CryptoError, SafeMode, signature, signature_matches
from adapters.wechat.send import WINDOW, WechatSender, menu_key
from adapters.wechat.xml import MalformedXml, parse_fields, text_reply

log = logging.getLogger(__name__)

CHANNEL = "wechat"
PATH = "/webhooks/wechat"
MAX_BODY_BYTES = 64 * 1024  # WeChat's pushes are a few hundred bytes; anything near this is not WeChat
MAX_SKEW_SECONDS = 300
REPLY_BUDGET_SECONDS = 4.0  # WeChat gives up after 5 s; leave room for the network

_TIMESTAMP = re.compile(r"\d{1,12}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ECHOSTR = re.compile(r"[A-Za-z0-9_-]{1,128}")
_USER_ID = re.compile(r"[A-Za-z0-9_@.-]{1,128}")  # openids (28 chars) and gh_ account ids
_MSG_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MENU_ID = re.compile(r"\d{1,32}")


class WechatStore(TokenStore, Protocol):
    """The session store as this channel uses it (shared across workers with Redis): the
    access_token and menu ids. Nonces are not kept here but in the database, with the message."""


@dataclass(frozen=True, slots=True)
class WechatSettings:
    token: str
    app_id: str
    app_secret: str
    encoding_aes_key: str = ""  # set: 安全模式 (or 兼容模式); only encrypted pushes are accepted
    api_base_url: str = "https://api.weixin.qq.com"
    status_template_id: str = ""  # empty: status updates wait for the citizen's next message
    reply_budget_seconds: float = REPLY_BUDGET_SECONDS
    max_body_bytes: int = MAX_BODY_BYTES


@dataclass(frozen=True, slots=True)
class _Push:
    """One authenticated push: its fields, its plain XML (kept as ``raw``), how to answer it."""

    fields: dict[str, str]
    raw: str
    nonce: str
    encrypted: bool
    seen: RequestNonce  # recorded with the message: the same nonce with another body is a replay


class WechatChannel:
    name = CHANNEL
    capabilities = Capabilities(
        inline_reply=True, buttons=True, location_request=False, reply_window_hours=WINDOW.total_seconds() / 3600
    )

    def __init__(
        self,
        settings: WechatSettings,
        sink: InboundSink,
        store: WechatStore,
        clock: Callable[[], datetime],
        api: WechatApi | None = None,
    ) -> None:
        if not settings.token:
            raise ValueError("the WeChat token is required")
        self._settings = settings
        self._sink = sink
        self._store = store
        self._clock = clock
        self._safe = (
            SafeMode(settings.token, settings.encoding_aes_key, settings.app_id) if settings.encoding_aes_key else None
        )
        self._api = api or WechatApi(settings.api_base_url, Credentials(settings.app_id, settings.app_secret), store)
        self._sender = WechatSender(self._api, store, settings.status_template_id)

    def routes(self) -> list[Route]:
        return [Route("GET", PATH, self.verify_url), Route("POST", PATH, self.receive)]

    async def close(self) -> None:
        """Close the API client's HTTP session (the app calls this on cleanup)."""
        await self._api.close()

    @property
    def api(self) -> WechatApi:
        return self._api

    # --- inbound: authentication -------------------------------------------------------------------

    async def verify_url(self, request: web.Request) -> web.StreamResponse:
        """The check WeChat makes when the server URL is saved: echo ``echostr`` if signed by us."""
        query = request.query
        try:
            timestamp, nonce = self._signed_params(query)
            self._check_plain_signature(query, timestamp, nonce)
            self._check_fresh(timestamp)
        except BadRequest as exc:
            return self._refused(exc)
        echostr = query.get("echostr", "")
        if not _ECHOSTR.fullmatch(echostr):
            return self._refused(BadRequest(400, "echostr missing or malformed"))
        return web.Response(text=echostr, content_type="text/plain")

    def _signed_params(self, query: Mapping[str, str]) -> tuple[str, str]:
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not _TIMESTAMP.fullmatch(timestamp) or not _NONCE.fullmatch(nonce):
            raise BadRequest(403, "signature parameters missing or malformed")
        return timestamp, nonce

    def _check_plain_signature(self, query: Mapping[str, str], timestamp: str, nonce: str) -> None:
        expected = signature(self._settings.token, timestamp, nonce)
        if not signature_matches(expected, query.get("signature", "")):
            raise BadRequest(403, "bad signature")

    def _check_fresh(self, timestamp: str) -> None:
        if abs(self._clock().timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
            raise BadRequest(403, "timestamp too far from now")

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self._settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise BadRequest(413, "body too large")
        body = bytearray()
        while len(body) <= limit:
            chunk = await request.content.read(limit + 1 - len(body))
            if not chunk:
                break
            body.extend(chunk)
        if len(body) > limit:
            raise BadRequest(413, "body too large")
        return bytes(body)

    @staticmethod
    def _parse(data: bytes) -> dict[str, str]:
        try:
            return parse_fields(data)
        except MalformedXml as exc:
            raise BadRequest(400, str(exc)) from exc

    async def _authenticate(self, request: web.Request) -> _Push:
        query = request.query
        timestamp, nonce = self._signed_params(query)
        safe = self._safe
        if safe is not None and query.get("encrypt_type", "").lower() != "aes":
            # The plain signature covers no part of the body: with a key configured, only
            # encrypted (signed) bodies are taken. 兼容模式 pushes carry both and pass.
            raise BadRequest(403, "an EncodingAESKey is configured: plain pushes are refused")
        if safe is None:
            self._check_plain_signature(query, timestamp, nonce)
        self._check_fresh(timestamp)
        body = await self._read_body(request)
        seen = _request_nonce(nonce, timestamp, body)
        if safe is None:
            return _Push(self._parse(body), body.decode("utf-8", errors="replace"), nonce, False, seen)
        envelope = self._parse(body)
        encrypted = envelope.get("Encrypt", "").strip()
        if not encrypted:
            raise BadRequest(400, "no Encrypt field in a safe-mode push")
        if not safe.verify(query.get("msg_signature", ""), timestamp, nonce, encrypted):
            raise BadRequest(403, "bad msg_signature")
        try:
            plain = safe.decrypt(encrypted)
        except CryptoError as exc:
            raise BadRequest(400, str(exc)) from exc
        return _Push(self._parse(plain.encode("utf-8")), plain, nonce, True, seen)

    @staticmethod
    def _refused(exc: BadRequest) -> web.Response:
        log.warning("wechat push refused (%d): %s", exc.status, exc.reason, extra={"channel": CHANNEL})
        return web.Response(status=exc.status, text=exc.reason, content_type="text/plain")

    # --- inbound: the message ------------------------------------------------------------------------

    async def receive(self, request: web.Request) -> web.StreamResponse:
        try:
            push = await self._authenticate(request)
            inbound = await self._inbound(push)
            handled = await self._sink.handle(
                inbound,
                inline=True,
                inline_limit=1,
                budget=self._settings.reply_budget_seconds,
                nonce=push.seen,
                arrived=arrival(request),
            )
        except BadRequest as exc:  # NonceReused too: a captured signature carrying another body
            return self._refused(exc)
        except TemporarilyUnavailable as exc:
            # Not stored (storage down, or no commit within the budget), so not acknowledged:
            # WeChat treats a non-200 answer as a failed delivery and sends the push again (up to
            # three times), as it does when no answer comes within 5 s. An explicit 503 rather than
            # silence: it is immediate, shows in logs and metrics as what it is, and holds no
            # connection open on a database that hangs. The retry carries the same nonce and body,
            # which the nonce record accepts, and the same MsgId, so it can never run twice.
            log.error("wechat push not stored: %s", exc, extra={"channel": CHANNEL})
            return web.Response(status=503, text="temporarily unavailable", content_type="text/plain")
        if handled.timed_out or not handled.replies:
            return web.Response(text="success", content_type="text/plain")
        return self._passive_reply(push, handled.replies[0])

    def _passive_reply(self, push: _Push, reply: Outbound) -> web.Response:
        """One message in the HTTP answer (choices as numbered text: passive replies have no
        buttons), encrypted when the push was."""
        now = str(int(self._clock().timestamp()))
        xml = text_reply(push.fields["FromUserName"], push.fields["ToUserName"], reply.as_numbered_text(), int(now))
        if push.encrypted and self._safe is not None:
            xml = self._safe.encrypt(xml, push.nonce, now)
        return web.Response(text=xml, content_type="application/xml")

    async def _inbound(self, push: _Push) -> Inbound:
        fields = push.fields
        to_user = _required(fields, "ToUserName", _USER_ID)
        from_user = _required(fields, "FromUserName", _USER_ID)
        create_time = _required(fields, "CreateTime", _TIMESTAMP)
        if "MsgType" not in fields:
            if "Encrypt" in fields and self._safe is None:
                raise BadRequest(400, "an encrypted push, but no EncodingAESKey is configured")
            raise BadRequest(400, "MsgType is missing")
        msg_type = fields["MsgType"].strip().lower()
        common: dict[str, Any] = {
            "channel": CHANNEL,
            "conversation": ConversationRef(CHANNEL, to_user, from_user),
            "received_at": self._clock(),
            "sender_id": from_user,
            "raw": push.raw,
        }
        if msg_type == "event":
            return self._event(fields, f"{from_user}:{create_time}", common)
        msg_id = fields.get("MsgId", "").strip()
        if msg_id and not _MSG_ID.fullmatch(msg_id):
            raise BadRequest(400, "MsgId malformed")
        key = msg_id or f"{from_user}:{create_time}:{msg_type}"
        if msg_type == "text":
            content = fields.get("Content", "")
            choice = await self._menu_choice(from_user, fields.get("bizmsgmenuid", "").strip())
            if choice is not None:
                return Inbound(message_key=key, kind=MessageKind.CHOICE, text=content, choice_id=choice, **common)
            return Inbound(message_key=key, kind=MessageKind.TEXT, text=content, **common)
        if msg_type == "image":
            media_id = fields.get("MediaId", "").strip()
            url = fields.get("PicUrl", "").strip() or None
            if not media_id:
                raise BadRequest(400, "image without MediaId")
            return Inbound(
                message_key=key, kind=MessageKind.IMAGE, media=(MediaRef("image", media_id, url=url),), **common
            )
        if msg_type == "voice":
            # WeChat's speech recognition, when the account has it on; else the dialog asks to type.
            return Inbound(
                message_key=key, kind=MessageKind.VOICE, text=fields.get("Recognition", "").strip(), **common
            )
        if msg_type == "location":
            location = _location(fields.get("Location_X"), fields.get("Location_Y"), fields.get("Label", ""))
            return Inbound(message_key=key, kind=MessageKind.LOCATION, location=location, **common)
        # link, video, shortvideo, file and whatever WeChat adds next: the dialog answers politely.
        return Inbound(message_key=key, kind=MessageKind.UNSUPPORTED, **common)

    def _event(self, fields: dict[str, str], sender_time: str, common: dict[str, Any]) -> Inbound:
        event = fields.get("Event", "").strip()
        if not event or len(event) > 64:
            raise BadRequest(400, "Event missing or malformed")
        key = f"{sender_time}:{event}"
        name = event.lower()
        if name == "click":
            command = MENU_COMMANDS.get(fields.get("EventKey", "").strip())
            if command is not None:  # a menu button is the command it stands for, as if typed
                return Inbound(message_key=key, kind=MessageKind.TEXT, text=command, **common)
        if name == "location":
            # Reported when the citizen opens the chat (if the account asks for it): a hint for
            # the next inquiry's place, not an answer to anything, so the dialog lets it pass.
            hint = _location(fields.get("Latitude"), fields.get("Longitude"), "")
            return Inbound(message_key=key, kind=MessageKind.EVENT, event="location_hint", location=hint, **common)
        if name == "templatesendjobfinish":
            status = fields.get("Status", "").strip()
            log.info(
                "wechat template message %s delivery: %s",
                fields.get("MsgID", "?"),
                status,
                extra={"channel": CHANNEL},
            )
            return Inbound(
                message_key=key, kind=MessageKind.EVENT, event="template_send_finished", text=status, **common
            )
        # subscribe (its qrscene_ EventKey, the source, stays in ``raw``), unsubscribe, SCAN, VIEW, …
        return Inbound(message_key=key, kind=MessageKind.EVENT, event=name, **common)

    async def _menu_choice(self, openid: str, menu_id: str) -> str | None:
        """The choice behind a tapped msgmenu item; None when unknown (then the label is read as
        text, which the dialogs accept too)."""
        if not menu_id or not _MENU_ID.fullmatch(menu_id):
            return None
        try:
            return await self._store.get(menu_key(openid, menu_id))
        except Exception as exc:  # the label still works as text: do not fail the message for this
            log.warning("wechat menu lookup failed: %s", type(exc).__name__, extra={"channel": CHANNEL})
            return None

    # --- outbound ----------------------------------------------------------------------------------

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext
    ) -> str | None:
        """One outbox row (``WechatSender``): the template's msgid, or None."""
        return await self._sender.send(ref, message, delivery_id, context)


# --- helpers -----------------------------------------------------------------------------------------


def _request_nonce(nonce: str, timestamp: str, body: bytes) -> RequestNonce:
    """A push's nonce and body hash, kept until its (checked) timestamp could no longer pass.
    In plain mode the signature covers no part of the body, so only this stops a captured query
    from carrying someone else's message, after a restart as well."""
    return RequestNonce(
        nonce=nonce,
        body_sha256=hashlib.sha256(body).hexdigest(),
        expires_at=datetime.fromtimestamp(int(timestamp) + MAX_SKEW_SECONDS, UTC),
    )


def _required(fields: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str:
    value = fields.get(name, "").strip()
    if not pattern.fullmatch(value):
        raise BadRequest(400, f"{name} missing or malformed")
    return value


def _location(lat: str | None, lon: str | None, label: str) -> Location:
    try:
        latitude, longitude = float(lat or ""), float(lon or "")
    except ValueError as exc:
        raise BadRequest(400, "location coordinates malformed") from exc
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise BadRequest(400, "location coordinates malformed")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadRequest(400, "location coordinates out of range")
    return Location(latitude, longitude, label.strip()[:300])
