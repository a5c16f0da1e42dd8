"""Mounts the staff and supervisor console (``tickets.console.web``) at ``/console``.

The console shares the /staff page's session table and sign-in rules (``SqlStaffAuth``): a staff
token from ``wenzheng staff token`` signs in to either, and revoking it ends both.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiohttp import web

from adapters.web.login_throttle import LoginThrottle
from bot.services import Services
from bot.staff_auth import SqlStaffAuth
from storage.database import session_factory
from tickets.console.web.app import console_app
from tickets.console.web.ports import ConsoleDeps
from tickets.staff_desk import StaffDesk

PREFIX = "/console"


async def _to_desk(request: web.Request) -> web.StreamResponse:
    return web.Response(status=308, headers={"Location": PREFIX + "/"})


def mount_console(app: web.Application, services: Services) -> None:
    config = services.config
    server = config.server
    flow = services.workflow
    readers = session_factory(services.reader_db)
    deps = ConsoleDeps(
        workflow=flow,
        desk=StaffDesk(workflow=flow, tickets=flow.tickets, taxonomy=flow.taxonomy, tz=flow.tz),
        sessions=services.sessions,
        readers=readers,
        auth=SqlStaffAuth(
            sessions=services.sessions,
            readers=readers,
            repo=flow.staff,
            clock=services.clock,
            token_max_age=timedelta(days=server.staff_token_days),
            session_max_age=timedelta(hours=server.staff_session_hours),
        ),
        throttle=LoginThrottle(
            max_failures=server.staff_login_failures, window_seconds=server.staff_login_window_minutes * 60.0
        ),
        clock=services.clock,
        wake_outbox=services.outbox.wake,
        media_dir=Path(config.storage.media_dir),
        cookie_secure=(server.public_url or "").startswith("https://"),
    )
    app.router.add_get(PREFIX, _to_desk)
    app.add_subapp(PREFIX, console_app(deps))
