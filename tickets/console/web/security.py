"""Who is asking, and may they: the console's session cookie, CSRF checks and roles.

The cookie holds a random session id (its row is stored hashed by the /staff page's session store,
so signing out, revoking the token or deactivating the person ends it at once); it is HttpOnly,
SameSite=Strict, scoped to ``/console`` and Secure when the service is served over https.
Every POST must carry a CSRF token (form field ``csrf`` or header ``X-CSRF-Token`` for htmx): an
HMAC of the session id, so it needs no storage, cannot be guessed without the cookie, and dies with
the session. Before sign-in a throwaway ``wz_console_pre`` cookie plays that part for the login form.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Middleware

from storage.models import Staff
from storage.staff import Role
from tickets.console.web.ports import ConsoleDeps
from tickets.console.web.texts import pick_locale

COOKIE = "wz_console"
PRE_COOKIE = "wz_console_pre"
LANG_COOKIE = "wz_console_lang"
PATH = "/console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
_ID = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
PUBLIC_ROUTES = frozenset({"login", "login_post", "static", "language"})
log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEPS = web.AppKey("console_deps", ConsoleDeps)


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewer:
    """The signed-in staff member for this request (a detached row: read it, do not change it)."""

    staff: Staff
    session_id: str
    csrf: str
    locale: str

    @property
    def supervises(self) -> bool:
        return self.staff.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.staff.role == Role.ADMIN


def csrf_for(secret: str) -> str:
    return hmac.new(secret.encode(), b"wenzheng-console-csrf", hashlib.sha256).hexdigest()


def valid_id(value: str) -> bool:
    return bool(_ID.match(value))


def locale_of(request: web.Request, staff: Staff | None = None) -> str:
    return pick_locale(request.cookies.get(LANG_COOKIE), staff.locale if staff else None)


def cookie(response: web.StreamResponse, name: str, value: str, *, secure: bool, max_age: int | None) -> None:
    response.set_cookie(name, value, path=PATH, httponly=True, samesite="Strict", secure=secure, max_age=max_age)


def drop_cookie(response: web.StreamResponse, name: str, *, secure: bool) -> None:
    response.del_cookie(name, path=PATH, secure=secure, httponly=True, samesite="Strict")


def new_pre_session() -> str:
    return secrets.token_urlsafe(32)


async def csrf_given(request: web.Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def csrf_ok(expected: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(expected, given)


VIEWER = web.RequestKey("console_viewer", Viewer)


def viewer_of(request: web.Request) -> Viewer:
    viewer = request.get(VIEWER)
    assert isinstance(viewer, Viewer), "a signed-in route ran without the guard"
    return viewer


def make_guard(refuse: Callable[[web.Request, int, str, str], web.StreamResponse]) -> Middleware:
    """The middleware: public routes pass; others need a live session (else to the login page,
    or 401 with ``HX-Redirect`` for htmx), and a POST needs the session's CSRF token (else 403)."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.name
        if route in PUBLIC_ROUTES:
            return await handler(request)
        deps = request.app[DEPS]
        session_id = request.cookies.get(COOKIE, "")
        staff = None
        if valid_id(session_id):
            staff_id = await deps.auth.staff_for(session_id)
            if staff_id is not None:
                async with deps.readers() as session:
                    staff = await deps.workflow.staff.get(session, staff_id)
        if staff is None or not staff.active:
            target = f"{PATH}/login"
            if request.method == "GET" and not request.headers.get("HX-Request"):
                return web.Response(
                    status=303, headers={"Location": f"{target}?next={quote(request.rel_url.path_qs, safe='')}"}
                )
            return web.Response(status=401, headers={"HX-Redirect": target}, text="signed out")
        viewer = Viewer(staff=staff, session_id=session_id, csrf=csrf_for(session_id), locale=locale_of(request, staff))
        request[VIEWER] = viewer
        if request.method == "POST" and not csrf_ok(viewer.csrf, await csrf_given(request)):
            log.warning("console POST refused: bad CSRF token", extra={"path": request.path, "staff": staff.id})
            return refuse(request, 403, "csrf_refused", viewer.locale)
        return await handler(request)

    return guard
