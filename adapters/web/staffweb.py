"""The staff's chat page at ``/staff``: department staff answer citizens through the bot from a browser.

It speaks the citizen page's JSON + SSE protocol (see ``adapters.http_common``) with one difference:
the caller is a known staff member. The login token from ``wenzheng staff token`` is exchanged once
for a server-side session: the HttpOnly cookie holds a random session id (stored hashed), never
the token, and expires. Every call checks the session again, so signing out, revoking the token
or deactivating the person locks the page out at once. Failed sign-ins are limited per client
address (``LoginThrottle``): past the limit, 429 with ``Retry-After``. Checking is delegated to a
``StaffAuth`` port because adapters do not reach into storage.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Protocol, TypeVar

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
from adapters.web.common import STATIC, Mailbox
from adapters.web.login_throttle import LocalSignInThrottle, LoginThrottle, SignInThrottle

CHANNEL = "staffweb"
ACCOUNT = "web"
COOKIE = "wz_staff"
COOKIE_PATH = "/staff"
log = logging.getLogger(__name__)
_T = TypeVar("_T")
# ``secrets.token_urlsafe(32)`` is 43 characters; anything unlike a token is refused without a lookup.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,128}$")

_ERRORS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        **ERRORS,
        "too_large": ("内容太长了，请缩短后再发送。", "That is too long. Please shorten it and send again."),
        "no_session": ("登录已失效，请重新登录。", "You are signed out. Please sign in again."),
        "too_many_attempts": (
            "登录尝试次数过多，请稍后再试。",
            "Too many sign-in attempts. Please try again later.",
        ),
        "bad_token": (
            "登录口令无效、已过期或已被撤销，请向管理员索取新口令。",
            "That login token is not valid, has expired or has been revoked. Ask an administrator for a new one.",
        ),
    }
)


@dataclass(frozen=True, slots=True)
class StaffSignIn:
    """A successful sign-in: who, the session id for the cookie (shown nowhere else), its end."""

    staff_id: int
    session_id: str
    expires_at: datetime


class StaffAuth(Protocol):
    """Tokens and page sessions, kept by the composition root's storage."""

    async def sign_in(self, token: str) -> StaffSignIn | None:
        """A new session for a live (unrevoked, unexpired) token, or None."""
        ...

    async def staff_for(self, session_id: str) -> int | None:
        """The staff id behind a live session, or None."""
        ...

    async def sign_out(self, session_id: str) -> None: ...


def chat_id_for(staff_id: int) -> str:
    return f"staff-{staff_id}"


class StaffWebChannel:
    name = CHANNEL
    capabilities = Capabilities(inline_reply=True, buttons=True, location_request=False)

    def __init__(
        self,
        sink: InboundSink,
        mailbox: Mailbox,
        auth: StaffAuth,
        clock: Callable[[], datetime],
        *,
        throttle: LoginThrottle | SignInThrottle | None = None,
        max_body_bytes: int = 262_144,
        cookie_secure: bool = False,
        poll_seconds: float = 2.0,
        keepalive_seconds: float = 15.0,
    ) -> None:
        self._sink = sink
        self._mailbox = mailbox
        self._auth = auth
        # In process by default; shared (Redis) when the service runs several workers.
        self._throttle: SignInThrottle = (
            LocalSignInThrottle(throttle or LoginThrottle())
            if throttle is None or isinstance(throttle, LoginThrottle)
            else throttle
        )
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

    async def _checked(self, check: Callable[[], Awaitable[_T]]) -> _T:
        """An unreachable database is a 503 the page retries, not a 500."""
        try:
            return await check()
        except TemporarilyUnavailable as exc:
            raise BadRequest(503, "unavailable") from exc
        except Exception as exc:
            log.exception("staff sign-in check failed", extra={"channel": CHANNEL})
            raise BadRequest(503, "unavailable") from exc

    async def _staff_for(self, session_id: str) -> int | None:
        if not _TOKEN.match(session_id):
            return None
        return await self._checked(lambda: self._auth.staff_for(session_id))

    async def _signed_in(self, request: web.Request) -> tuple[str, int]:
        session_id = request.cookies.get(COOKIE, "")
        staff_id = await self._staff_for(session_id)
        if staff_id is None:
            raise BadRequest(401, "no_session")
        return session_id, staff_id

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
        address = request.remote or "unknown"
        wait = await self._throttle.retry_after(address)
        if wait is not None:
            log.warning("staff sign-in refused: too many failures", extra={"channel": CHANNEL, "client": address})
            response = self._error(BadRequest(429, "too_many_attempts"))
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        try:
            data = await read_json(request, self._max_body)
            token = data.get("token") if isinstance(data, dict) else None
            if not isinstance(token, str):
                raise BadRequest(400, "malformed")
            token = token.strip()  # pasted from a terminal, often with a newline
            signed = await self._sign_in(token)
            if signed is None:
                await self._throttle.failed(address)
                raise BadRequest(403, "bad_token")
        except BadRequest as exc:
            return self._error(exc)
        await self._throttle.succeeded(address)
        response = web.json_response({"ok": True, "staff_id": signed.staff_id})
        max_age = max(1, int((signed.expires_at - self._clock()).total_seconds()))
        set_credential_cookie(
            response, COOKIE, signed.session_id, path=COOKIE_PATH, secure=self._cookie_secure, max_age=max_age
        )
        return response

    async def _sign_in(self, token: str) -> StaffSignIn | None:
        if not _TOKEN.match(token):
            return None
        return await self._checked(lambda: self._auth.sign_in(token))

    async def logout(self, request: web.Request) -> web.Response:
        """Always succeeds: signing out of a session that already ended is not an error. The
        session ends on the server too, so a copied cookie is worthless afterwards."""
        session_id = request.cookies.get(COOKIE, "")
        if _TOKEN.match(session_id):
            try:
                await self._checked(lambda: self._auth.sign_out(session_id))
            except BadRequest as exc:
                return self._error(exc)
        response = web.json_response({"ok": True})
        response.del_cookie(COOKIE, path=COOKIE_PATH, secure=self._cookie_secure, httponly=True, samesite="Strict")
        return response

    async def session(self, request: web.Request) -> web.Response:
        """Lets the page choose between its login and chat views (it cannot read the cookie)."""
        try:
            _session_id, staff_id = await self._signed_in(request)
        except BadRequest as exc:
            return self._error(exc)
        return web.json_response({"ok": True, "staff_id": staff_id})

    # --- inbound --------------------------------------------------------------------------------

    async def message(self, request: web.Request) -> web.Response:
        try:
            _session_id, staff_id = await self._signed_in(request)
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
            session_id, staff_id = await self._signed_in(request)
            after = last_event_id(request)
        except BadRequest as exc:
            return self._error(exc)

        async def still_signed_in() -> bool:
            return await self._staff_for(session_id) == staff_id

        return await self._streams.stream(request, chat_id_for(staff_id), after, allowed=still_signed_in)

    async def close(self) -> None:
        """Let open event streams end so the server can shut down promptly."""
        self._streams.close()
        await self._throttle.close()
