"""Signing in with the staff token (``wenzheng staff token``), signing out, choosing the language."""

from __future__ import annotations

import logging
import math
import re
from urllib.parse import quote

from aiohttp import web

from tickets.console.web.rendering import render, see_other
from tickets.console.web.security import (
    COOKIE,
    CSRF_FIELD,
    DEPS,
    LANG_COOKIE,
    PATH,
    PRE_COOKIE,
    cookie,
    csrf_for,
    csrf_ok,
    drop_cookie,
    locale_of,
    new_pre_session,
    valid_id,
    viewer_of,
)
from tickets.console.web.texts import LOCALES, t

log = logging.getLogger(__name__)
_NEXT = re.compile(r"^/console(?:[/?][^\s]*)?$")
PRE_MAX_AGE = 3600


def safe_next(value: str | None) -> str:
    """Only back into the console: never an open redirect (``//evil``, ``https://…``)."""
    if value and _NEXT.match(value) and not value.startswith("//"):
        return value
    return PATH


def login_url(next_path: str) -> str:
    return f"{PATH}/login?next={quote(next_path, safe='')}"


async def login_page(request: web.Request, *, message: str = "", status: int = 200) -> web.Response:
    deps = request.app[DEPS]
    pre = request.cookies.get(PRE_COOKIE, "")
    if not valid_id(pre):
        pre = new_pre_session()
    response = render(
        request,
        "login.html",
        {
            "csrf": csrf_for(pre),
            "message": message or (t("signed_out", locale_of(request)) if "signed_out" in request.query else ""),
            "next": safe_next(request.query.get("next")),
        },
        status=status,
    )
    cookie(response, PRE_COOKIE, pre, secure=deps.cookie_secure, max_age=PRE_MAX_AGE)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    return await login_page(request)


async def login_post(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    locale = locale_of(request)
    form = await request.post()
    pre = request.cookies.get(PRE_COOKIE, "")
    given = form.get(CSRF_FIELD)
    if not valid_id(pre) or not isinstance(given, str) or not csrf_ok(csrf_for(pre), given):
        return await login_page(request, message=t("login_expired_form", locale), status=403)
    address = request.remote or "unknown"
    wait = deps.throttle.retry_after(address)
    if wait is not None:
        response = await login_page(
            request, message=t("login_throttled", locale, minutes=max(1, math.ceil(wait / 60))), status=429
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    token = form.get("token")
    token = token.strip() if isinstance(token, str) else ""  # pasted from a terminal, often with a newline
    signed = await deps.auth.sign_in(token) if valid_id(token) else None
    if signed is None:
        deps.throttle.failed(address)
        log.info("console sign-in refused", extra={"client": address})
        return await login_page(request, message=t("login_bad_token", locale), status=403)
    deps.throttle.succeeded(address)
    next_path = form.get("next")
    response = see_other(safe_next(next_path if isinstance(next_path, str) else None))
    max_age = max(1, int((signed.expires_at - deps.clock()).total_seconds()))
    cookie(response, COOKIE, signed.session_id, secure=deps.cookie_secure, max_age=max_age)
    drop_cookie(response, PRE_COOKIE, secure=deps.cookie_secure)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """The session ends on the server too: a copied cookie is worthless afterwards."""
    deps = request.app[DEPS]
    viewer = viewer_of(request)
    await deps.auth.sign_out(viewer.session_id)
    response = see_other(f"{PATH}/login?signed_out=1")
    drop_cookie(response, COOKIE, secure=deps.cookie_secure)
    return response


async def language(request: web.Request) -> web.StreamResponse:
    """A preference only (no state of the service changes), so a plain link may set it."""
    deps = request.app[DEPS]
    wanted = request.query.get("to", "")
    response = see_other(safe_next(request.query.get("next")))
    if wanted in LOCALES:
        response.set_cookie(
            LANG_COOKIE, wanted, path=PATH, samesite="Lax", secure=deps.cookie_secure, max_age=365 * 86400
        )
    return response
