"""The console as an aiohttp sub-application mounted at ``/console``: its own templates, static
files and middleware (sign-in and CSRF), so nothing of it leaks onto the citizens' pages."""

from __future__ import annotations

from importlib import resources

import aiohttp_jinja2
import jinja2
from aiohttp import web

from tickets.console.web import desk, hot_page, login, scorecard_page, supervision_page, ticket_page
from tickets.console.web.ports import ConsoleDeps
from tickets.console.web.rendering import refusal
from tickets.console.web.security import DEPS, make_guard

STATIC_FILES = frozenset({"htmx.min.js", "htmx.LICENSE", "console.css", "console.js"})
_TYPES = {".js": "text/javascript", ".css": "text/css", ".LICENSE": "text/plain"}


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    body = resources.files("tickets.console.web").joinpath("static", name).read_bytes()
    kind = next((v for k, v in _TYPES.items() if name.endswith(k)), "application/octet-stream")
    return web.Response(
        body=body, content_type=kind, charset="utf-8", headers={"Cache-Control": "public, max-age=3600"}
    )


def console_app(deps: ConsoleDeps) -> web.Application:
    app = web.Application(middlewares=[make_guard(refusal)])
    app[DEPS] = deps
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("tickets.console.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    add = app.router.add_route
    add("GET", "/login", login.login, name="login")
    add("POST", "/login", login.login_post, name="login_post")
    add("POST", "/logout", login.logout, name="logout")
    add("GET", "/language", login.language, name="language")
    add("GET", "/static/{name}", static, name="static")
    desk.add_routes(app)
    ticket_page.add_routes(app)
    scorecard_page.add_routes(app)
    supervision_page.add_routes(app)
    hot_page.add_routes(app)
    return app
