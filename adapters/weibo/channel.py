"""Weibo fan-service (粉丝服务平台) private messages: ``GET|POST /webhooks/weibo`` and the reply API.

Government accounts on Weibo take complaints by private message. The platform pushes each message
(or follow, menu click, @mention) as signed JSON and waits five seconds for an answer, retrying
three times; an answer may carry one passive reply. Everything else we say goes through
``POST /2/messages/reply.json``, which the platform allows for 48 hours after the citizen's last
action and never after they unfollow. There is no maintained SDK, so this is a thin aiohttp client;
the wire format itself lives in ``adapters.weibo.protocol``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from adapters.base import (
    BadRequest,
    Capabilities,
    ConversationRef,
    DeliveryContext,
    Handled,
    Inbound,
    InboundSink,
    MessageKind,
    NonceReused,
    Outbound,
    OutsideWindow,
    RecipientUnreachable,
    RequestNonce,
    Route,
    SendError,
    TemporarilyUnavailable,
    arrival,
)
from adapters.weibo.protocol import (
    CHANNEL,
    MAX_BODY_BYTES,
    MAX_CLOCK_SKEW,
    NONCE_TTL_SECONDS,
    REPLY_WINDOW,
    UNFOLLOW_EVENT,
    Ignored,
    api_error,
    check_signature,
    encode_data,
    fits,
    parse_push,
    passive_reply,
    split_text,
    window_open,
)

log = logging.getLogger(__name__)

PATH = "/webhooks/weibo"
REPLY_PATH = "/2/messages/reply.json"
PASSIVE_BUDGET_SECONDS = 4.0  # the platform gives up after 5 s; leave room for the network
PART_TTL_SECONDS = 7 * 24 * 3600  # longer than any retry schedule of one outbox row
# Kept after an unfollow for as long as the reply window that the unfollow itself opened would
# last; after that the window check refuses sends on its own.
UNFOLLOWED_TTL_SECONDS = REPLY_WINDOW.total_seconds() + 3600


class WeiboStore(Protocol):
    """The part of the shared session store this channel uses (the same across workers)."""

    async def add_once(self, key: str, ttl_seconds: float) -> bool: ...
    async def get(self, key: str) -> str | None: ...
    async def put(self, key: str, value: str, ttl_seconds: float) -> None: ...
    async def delete(self, key: str) -> None: ...


# Queues replies in the outbox (given by the wiring: adapters don't reach the database).


@dataclass(frozen=True, slots=True)
class WeiboSettings:
    app_secret: str
    access_token: str
    api_base_url: str = "https://m.api.weibo.com"
    timeout_seconds: float = 10.0
    max_body_bytes: int = MAX_BODY_BYTES


def _empty() -> web.Response:
    """An empty 200: the platform takes it as "received, no passive reply" and does not retry."""
    return web.Response(text="")


def _request_nonce(request: web.Request, body: bytes) -> RequestNonce:
    """The push's nonce and body hash, kept until its (checked) timestamp could no longer pass."""
    timestamp = int(request.query["timestamp"])
    return RequestNonce(
        nonce=request.query["nonce"],
        body_sha256=hashlib.sha256(body).hexdigest(),
        expires_at=datetime.fromtimestamp(timestamp + MAX_CLOCK_SKEW.total_seconds(), UTC),
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class WeiboChannel:
    name = CHANNEL
    capabilities = Capabilities(
        inline_reply=True, buttons=False, location_request=False, reply_window_hours=REPLY_WINDOW.total_seconds() / 3600
    )

    def __init__(
        self,
        settings: WeiboSettings,
        sink: InboundSink,
        store: WeiboStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._sink = sink
        self._store = store
        self._clock = clock
        self._http: aiohttp.ClientSession | None = None  # created on first send, inside the running loop

    def routes(self) -> list[Route]:
        return [Route("GET", PATH, self.verify_url), Route("POST", PATH, self.receive)]

    # --- authenticity ---------------------------------------------------------------------------

    def _unsigned(self, request: web.Request) -> web.Response | None:
        """403 unless the request is signed with our secret and recent. A push's nonce is judged
        later, with its body, in the transaction that stores it (``_request_nonce``)."""
        reason = check_signature(self._settings.app_secret, request.query, self._clock())
        if reason is None:
            return None
        log.warning("weibo: request refused: %s", reason, extra={"channel": CHANNEL})
        return web.Response(status=403, text="forbidden")

    async def _refusal(self, request: web.Request) -> web.Response | None:
        """The URL check: signed, recent, and its nonce new (nothing is stored for it, so the
        session store's replay cache is enough; echoing ``echostr`` again reveals nothing)."""
        refused = self._unsigned(request)
        if refused is not None:
            return refused
        try:
            fresh = await self._store.add_once(f"weibo:nonce:{request.query['nonce']}", NONCE_TTL_SECONDS)
        except Exception as exc:  # the replay cache is down: unverifiable, so retryable, never a 500
            log.error("weibo: replay cache unavailable: %s", exc, extra={"channel": CHANNEL})
            return web.Response(status=503, text="unavailable")
        if fresh:
            return None
        log.warning("weibo: request refused: replayed nonce", extra={"channel": CHANNEL})
        return web.Response(status=403, text="forbidden")

    async def verify_url(self, request: web.Request) -> web.Response:
        """The console's URL check: echo ``echostr`` back when the signature is ours."""
        refused = await self._refusal(request)
        if refused is not None:
            return refused
        echostr = request.query.get("echostr")
        if not echostr:
            return web.Response(status=400, text="echostr is missing")
        return web.Response(text=echostr)

    # --- inbound --------------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> bytes:
        limit = self._settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise BadRequest(413, "body too large")
        body = await request.content.read(limit + 1)
        if len(body) > limit:
            raise BadRequest(413, "body too large")
        return body

    async def receive(self, request: web.Request) -> web.Response:
        refused = self._unsigned(request)
        if refused is not None:
            return refused
        try:
            body = await self._body(request)
            parsed = parse_push(body, self._clock())
        except BadRequest as exc:
            log.warning("weibo: push refused (%d): %s", exc.status, exc.reason, extra={"channel": CHANNEL})
            return web.Response(status=exc.status, text=exc.reason)
        if isinstance(parsed, Ignored):
            log.info("weibo: push ignored: %s", parsed.reason, extra={"channel": CHANNEL})
            return _empty()
        try:
            await self._remember_following(parsed)
            handled = await self._sink.handle(
                parsed,
                inline=True,
                inline_limit=1,
                budget=PASSIVE_BUDGET_SECONDS,
                inline_fits=lambda reply: fits(reply.as_numbered_text()),
                nonce=_request_nonce(request, body),
                arrived=arrival(request),
            )
            return await self._answer(parsed, handled)
        except NonceReused as exc:
            # The signature does not cover the body: a captured query carrying another message.
            log.warning("weibo: request refused: %s", exc.reason, extra={"channel": CHANNEL})
            return web.Response(status=403, text="forbidden")
        except TemporarilyUnavailable:
            # Not stored (the store is down, or did not commit within the budget): not
            # acknowledged. The platform retries; the same signed request is then accepted, its
            # nonce being recorded only with the message and matched by the body's hash.
            return web.Response(status=503, text="unavailable")

    async def _remember_following(self, push: Inbound) -> None:
        """Note an unfollow where ``send`` can see it (its delivery context carries no reachability):
        a push queued before the unfollow must not go out after it. Any other action undoes it."""
        key = self._unfollowed_key(push.conversation)
        try:
            if push.kind is MessageKind.EVENT and push.event == UNFOLLOW_EVENT:
                await self._store.put(key, "1", UNFOLLOWED_TTL_SECONDS)
            else:
                await self._store.delete(key)
        except Exception as exc:
            log.error("weibo: session store unavailable: %s", exc, extra={"channel": CHANNEL})
            raise TemporarilyUnavailable(str(exc)) from exc

    async def _answer(self, push: Inbound, handled: Handled) -> web.Response:
        """The first reply as the passive reply. One too long for a Weibo text was never inline:
        the dispatcher queued it in the outbox with the rest, in the same transaction."""
        if handled.timed_out or not handled.replies:
            return _empty()
        return web.json_response(passive_reply(push, handled.replies[0].as_numbered_text()), dumps=_dumps)

    # --- outbound -------------------------------------------------------------------------------

    @staticmethod
    def _unfollowed_key(ref: ConversationRef) -> str:
        return f"weibo:unfollowed:{ref.account}:{ref.chat_id}"

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext
    ) -> str | None:
        """One outbox message as one or more texts (choices numbered, long texts split). Parts
        already delivered by an earlier attempt of the same row are skipped, so a retry after a
        partial failure doesn't repeat them."""
        last = context.last_inbound_at
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        if not window_open(last, context.now):
            raise OutsideWindow("the 48-hour reply window is closed until the citizen writes again")
        progress_key = f"weibo:part:{delivery_id}"
        try:
            if await self._store.get(self._unfollowed_key(ref)) is not None:
                raise RecipientUnreachable("the citizen unfollowed the account")
            done = int(await self._store.get(progress_key) or 0)
        except SendError:
            raise
        except Exception as exc:
            raise SendError(f"session store unavailable: {exc}", retryable=True) from exc
        parts = split_text(message.as_numbered_text())
        for index in range(done, len(parts)):
            await self._reply(ref.chat_id, parts[index])
            if index + 1 < len(parts):
                try:
                    await self._store.put(progress_key, str(index + 1), PART_TTL_SECONDS)
                except Exception as exc:  # sent, but unrecorded: a retry may repeat this part, never lose one
                    log.warning("weibo: could not record a sent part: %s", exc, extra={"channel": CHANNEL})
        return None  # the reply API returns no message id worth keeping

    def _client(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._settings.timeout_seconds))
        return self._http

    async def _reply(self, receiver_id: str, text: str) -> None:
        form = {
            "access_token": self._settings.access_token,
            "type": "text",
            "data": encode_data(text),
            "receiver_id": receiver_id,
        }
        url = self._settings.api_base_url.rstrip("/") + REPLY_PATH
        try:
            async with self._client().post(url, data=form) as response:
                status, raw = response.status, await response.read()
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SendError(f"weibo unreachable: {type(exc).__name__}: {exc}", retryable=True) from exc
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        failed = isinstance(body, dict) and "error_code" in body
        if status >= 300 or failed:
            raise api_error(status, body, retry_after)

    async def close(self) -> None:
        """Close the HTTP client; the app calls this on cleanup."""
        if self._http is not None:
            await self._http.close()
            self._http = None
