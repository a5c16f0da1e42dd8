"""One JSON log line per HTTP request: method, path, status and milliseconds.

aiohttp's own access log is silenced (``bot.logs``) because it prints the query string, where
WeChat and Weibo put their signatures, nonces and timestamps. This one logs the path only; the
JSON formatter masks phone and 身份证 numbers in whatever is left.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger("bot.access")

CLIENT_GONE = 499  # nginx's code for a client that hung up before the answer


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500  # an exception that escapes becomes aiohttp's 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = CLIENT_GONE
        raise
    finally:
        log.info(
            "%s %s %d",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
