"""The staff's chat page at ``/staff``: department staff answer citizens through the bot from a browser.

It speaks the citizen page's JSON + SSE protocol (see ``adapters.http_common``) with one difference:
the caller is a known staff member. The login token from ``wenzheng staff token`` is itself the
credential, kept in an HttpOnly cookie and checked again on every call, so revoking it (or
deactivating the person) locks the page out at once. Checking is delegated to ``verify_token``
because adapters do not reach into storage.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from types import MappingProxyType

from aiohttp import web

from adapters.base import (
    BadRequest,
    Capabilities,
    ConversationRef,
    DeliveryContext,
    InboundSink,
    Outbound,
    Route,
    TemporarilyUnavailable,
)
from adapters.http_common import (
    ERRORS,
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
from adapters.webchat import STATIC, Mailbox

CHANNEL = "staffweb"
ACCOUNT = "web"
COOKIE = "wz_staff"
COOKIE_PATH = "/staff"
COOKIE_MAX_AGE = 30 * 24 * 3600  # a month of working days without pasting the token again; logout ends it
log = logging.getLogger(__name__)
# ``secrets.token_urlsafe(32)`` is 43 characters; anything unlike a token is refused without a lookup.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")

_ERRORS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        **ERRORS,
        "too_large": ("内容太长了，请缩短后再发送。", "That is too long. Please shorten it and send again."),
        "no_session": ("登录已失效，请重新登录。", "You are signed out. Please sign in again."),
        "bad_token": (
            "登录口令无效或已被撤销，请向管理员索取新口令。",
            "That login token is not valid or has been revoked. Ask an administrator for a new one.",
        ),
    }
)


def chat_id_for(staff_id: int) -> str:
    return f"staff-{staff_id}"


class StaffWebChannel:
    name = CHANNEL
    capabilities = Capabilities(inline_reply=True, buttons=True, location_request=False)

    def __init__(
        self,
        sink: InboundSink,
        mailbox: Mailbox,
        verify_token: Callable[[str], Awaitable[int | None]],
        clock: Callable[[], datetime],
        *,
        max_body_bytes: int = 262_144,
        cookie_secure: bool = False,
        poll_seconds: float = 2.0,
        keepalive_seconds: float = 15.0,
    ) -> None:
        self._sink = sink
        self._mailbox = mailbox
        self._verify_token = verify_token
        self._clock = clock
        self._max_body = max_body_bytes
        self._cookie_secure = cookie_secure
        self._streams = EventStreams(
            mailbox, channel=CHANNEL, poll_seconds=poll_seconds, keepalive_seconds=keepalive_seconds
        )

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/staff", self.page),
            Route("GET", "/staff/static/{name}", self.static),
            Route("POST", "/staff/api/login", self.login),
            Route("POST", "/staff/api/logout", self.logout),
            Route("GET", "/staff/api/session", self.session),
            Route("POST", "/staff/api/messages", self.message),
            Route("GET", "/staff/api/events", self.events),
        ]

    # --- identity -------------------------------------------------------------------------------

    async def _verify(self, token: str) -> int | None:
        """The staff id behind ``token``; an unreachable database is a 503 the page retries, not a 500."""
        if not _TOKEN.match(token):
            return None
        try:
            return await self._verify_token(token)
        except TemporarilyUnavailable as exc:
            raise BadRequest(503, "unavailable") from exc
        except Exception as exc:
            log.exception("staff token check failed", extra={"channel": CHANNEL})
            raise BadRequest(503, "unavailable") from exc

    async def _signed_in(self, request: web.Request) -> tuple[str, int]:
        token = request.cookies.get(COOKIE, "")
        staff_id = await self._verify(token)
        if staff_id is None:
            raise BadRequest(401, "no_session")
        return token, staff_id

    @staticmethod
    def _ref(staff_id: int) -> ConversationRef:
        return ConversationRef(CHANNEL, ACCOUNT, chat_id_for(staff_id))

    @staticmethod
    def _error(exc: BadRequest) -> web.Response:
        return error_response(exc.status, exc.reason, _ERRORS)

    # --- pages ----------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        return static_file(STATIC, "staff.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        return static_asset(STATIC, request.match_info["name"])

    # --- session --------------------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.Response:
        try:
            data = await read_json(request, self._max_body)
            token = data.get("token") if isinstance(data, dict) else None
            if not isinstance(token, str):
                raise BadRequest(400, "malformed")
            token = token.strip()  # pasted from a terminal, often with a newline
            staff_id = await self._verify(token)
            if staff_id is None:
                raise BadRequest(403, "bad_token")
        except BadRequest as exc:
            return self._error(exc)
        response = web.json_response({"ok": True, "staff_id": staff_id})
        set_credential_cookie(
            response, COOKIE, token, path=COOKIE_PATH, secure=self._cookie_secure, max_age=COOKIE_MAX_AGE
        )
        return response

    async def logout(self, request: web.Request) -> web.Response:
        """Always succeeds: signing out of a session that already ended is not an error."""
        response = web.json_response({"ok": True})
        response.del_cookie(COOKIE, path=COOKIE_PATH, secure=self._cookie_secure, httponly=True, samesite="Strict")
        return response

    async def session(self, request: web.Request) -> web.Response:
        """Lets the page choose between its login and chat views (it cannot read the cookie)."""
        try:
            _token, staff_id = await self._signed_in(request)
        except BadRequest as exc:
            return self._error(exc)
        return web.json_response({"ok": True, "staff_id": staff_id})

    # --- inbound --------------------------------------------------------------------------------

    async def message(self, request: web.Request) -> web.Response:
        try:
            _token, staff_id = await self._signed_in(request)
            data = await read_json(request, self._max_body)
            msg = parse_client_message(data, max_raw=self._max_body, locations=False)
        except BadRequest as exc:
            return self._error(exc)
        inbound = msg.inbound(
            self._ref(staff_id),
            f"{chat_id_for(staff_id)}:{msg.client_id}",
            self._clock(),
            locale_hint=locale_hint(request),
            sender_id=str(staff_id),
        )
        return await reply_inline(self._sink, inbound)

    # --- outbound -------------------------------------------------------------------------------

    async def send(
        self, ref: ConversationRef, message: Outbound, delivery_id: str, context: DeliveryContext | None = None
    ) -> str | None:
        await self._mailbox.append(ref.chat_id, delivery_id, message.to_dict(), self._clock())
        self._streams.wake(ref.chat_id)
        return None  # the mailbox is ours: no platform id to trace

    async def events(self, request: web.Request) -> web.StreamResponse:
        try:
            token, staff_id = await self._signed_in(request)
            after = last_event_id(request)
        except BadRequest as exc:
            return self._error(exc)

        async def still_signed_in() -> bool:
            return await self._verify(token) == staff_id

        return await self._streams.stream(request, chat_id_for(staff_id), after, allowed=still_signed_in)

    async def close(self) -> None:
        """Let open event streams end so the server can shut down promptly."""
        self._streams.close()
