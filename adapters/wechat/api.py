"""The WeChat Official Account HTTP API, called with aiohttp, never blocking the event loop.

wechatpy's client is synchronous and fetches its token from a hard-coded URL; the few calls we
make (token, customer-service and template messages, the menu) are small JSON posts, so they are
made here, against ``api_base_url``, which lets tests and staging point the channel at a fake.

The access_token is shared by every worker through the session store: WeChat allows a limited
number of token fetches a day, and fetching a new token retires the previous one within minutes,
so workers fetching their own would keep invalidating each other. One worker refreshes at a
time (a store lock); the others wait for it and read the token it stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import aiohttp

log = logging.getLogger(__name__)

TOKEN_KEY = "wechat:access_token"
TOKEN_LOCK = "wechat:token-refresh"
# The token is refreshed this long before WeChat says it expires, so a call never races its expiry.
TOKEN_MARGIN_SECONDS = 300
# 40001 invalid credential, 40014 invalid access_token, 42001 expired: a fresh token may fix it.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})

CUSTOM_SEND = "/cgi-bin/message/custom/send"
TEMPLATE_SEND = "/cgi-bin/message/template/send"
MENU_CREATE = "/cgi-bin/menu/create"

# The account menu (``wenzheng wechat menu``) and what its buttons mean: each press arrives as a
# CLICK event, which the channel hands to the dialog as the command it stands for, as if typed.
MENU_COMMANDS: Mapping[str, str] = MappingProxyType({"WZ_NEW": "我要问政", "WZ_MY": "我的问政", "WZ_HELP": "帮助"})


def account_menu() -> dict[str, Any]:
    """The body of ``/cgi-bin/menu/create``: three click buttons, one per dialog command."""
    return {"button": [{"type": "click", "name": name, "key": key} for key, name in MENU_COMMANDS.items()]}


class TokenStore(Protocol):
    """The part of the session store the API client needs (shared across workers with Redis)."""

    async def get(self, key: str) -> str | None: ...
    async def put(self, key: str, value: str, ttl_seconds: float) -> None: ...
    def lock(self, key: str, timeout_seconds: float = 30.0) -> AbstractAsyncContextManager[None]: ...


class ApiError(Exception):
    """WeChat answered with a non-zero ``errcode``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"WeChat error {code}: {message}")
        self.code = code
        self.message = message


class ApiUnavailable(Exception):
    """No usable answer: a network failure, a timeout, a 5xx or a body that is not JSON."""


@dataclass(frozen=True, slots=True)
class Credentials:
    app_id: str
    app_secret: str


class WechatApi:
    """One client per channel; its HTTP session is created on first use and closed by ``close``."""

    def __init__(
        self, base_url: str, credentials: Credentials, store: TokenStore, *, timeout_seconds: float = 10.0
    ) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = credentials
        self._store = store
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    # --- the token -------------------------------------------------------------------------------

    async def token(self, *, rejected: str | None = None) -> str:
        """The shared access_token. ``rejected``: WeChat just refused this one, so a stored token
        equal to it is not good enough (another worker may already have replaced it)."""
        cached = await self._store.get(TOKEN_KEY)
        if cached and cached != rejected:
            return cached
        async with self._store.lock(TOKEN_LOCK, 15.0):
            cached = await self._store.get(TOKEN_KEY)  # refreshed by another worker while we waited
            if cached and cached != rejected:
                return cached
            fresh, expires_in = await self._fetch_token()
            await self._store.put(TOKEN_KEY, fresh, max(60.0, expires_in - TOKEN_MARGIN_SECONDS))
            log.info("wechat access_token refreshed", extra={"channel": "wechat"})
            return fresh

    async def _fetch_token(self) -> tuple[str, float]:
        params = {
            "grant_type": "client_credential",
            "appid": self._credentials.app_id,
            "secret": self._credentials.app_secret,
        }
        data = await self._request("GET", "/cgi-bin/token", params=params)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise ApiError(int(data.get("errcode", -1)), str(data.get("errmsg", "no access_token in the answer")))
        try:
            expires_in = float(data.get("expires_in", 7200))
        except (TypeError, ValueError):
            expires_in = 7200.0
        return token, expires_in

    # --- calls ---------------------------------------------------------------------------------

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` with the token; a token WeChat refuses is refreshed once and the call
        made again. Raises ``ApiError`` for a non-zero errcode, ``ApiUnavailable`` when there is
        no usable answer."""
        token = await self.token()
        data = await self._post_once(path, token, payload)
        if _errcode(data) in TOKEN_ERRORS:
            log.warning("wechat refused the access_token (%s); refreshing", _errcode(data), extra={"channel": "wechat"})
            token = await self.token(rejected=token)
            data = await self._post_once(path, token, payload)
        code = _errcode(data)
        if code != 0:
            raise ApiError(code, str(data.get("errmsg", "")))
        return data

    async def _post_once(self, path: str, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        # WeChat shows \uXXXX escapes literally in some places (the menu): send UTF-8 as it is.
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return await self._request(
            "POST",
            path,
            params={"access_token": token},
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        # Error texts never include the URL: its query carries the token or the app secret.
        try:
            async with self._http().request(method, self._base + path, **kwargs) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ApiUnavailable(f"WeChat API unreachable ({type(exc).__name__})") from exc
        if status >= 500 or status == 429:
            raise ApiUnavailable(f"WeChat API answered HTTP {status}")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ApiUnavailable(f"WeChat API answered HTTP {status} without JSON") from exc
        if not isinstance(data, dict):
            raise ApiUnavailable(f"WeChat API answered HTTP {status} with unexpected JSON")
        return data


def _errcode(data: dict[str, Any]) -> int:
    try:
        return int(data.get("errcode", 0))
    except (TypeError, ValueError):
        return -1
