"""The service's own HTTP routes, beside the channels': health, metrics, and ``/`` to the web chat."""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web

from bot.config import MetricsAccessConfig
from bot.services import HEALTH, SERVICES


async def to_chat(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/chat")


async def healthz(request: web.Request) -> web.Response:
    """503 naming what is down, within the check's own timeout even while the database hangs."""
    checks = await request.app[HEALTH].report()
    healthy = all(v == "ok" for v in checks.values())
    return web.json_response({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if not metrics_allowed(services.config.server.metrics, request.remote, request.headers.get("Authorization", "")):
        return web.Response(status=403, text="forbidden: see server.metrics in the configuration\n")
    return web.Response(body=services.metrics.render(), content_type="text/plain", charset="utf-8")


def metrics_allowed(access: MetricsAccessConfig, remote: str | None, authorization: str) -> bool:
    """``server.metrics.allow``: loopback callers only (the default), a bearer token, or anyone.
    The address is the TCP peer's: behind a proxy on the same host every caller is loopback, so
    use ``token`` there."""
    if access.allow == "public":
        return True
    if access.allow == "token":
        scheme, _, presented = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), access.token.encode())
    try:
        return remote is not None and ipaddress.ip_address(remote.split("%")[0]).is_loopback
    except ValueError:
        return False
