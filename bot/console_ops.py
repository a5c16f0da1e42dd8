"""The operator's view of the departments in ``/metrics``, and the warning at start.

``wenzheng_department_open_tickets`` / ``wenzheng_department_overdue_tickets`` are refreshed every
minute by ``department_gauges_loop`` (one short query per department, on the reader pool);
``wenzheng_department_unstaffed`` is 1 for a department that routing can give tickets to but that
has no active staff member. ``check_staffing`` logs that at start, so an operator reading
the start-up log sees it before the first ticket lands on the admins' desks alone. The same loop
keeps the scorecard snapshots of this month and last month (``tickets.console.snapshots``) fresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import Services
from storage.database import session_factory
from tickets.console import operations
from tickets.console.snapshots import Snapshots

log = logging.getLogger(__name__)
EVERY_SECONDS = 60.0


async def _set_unstaffed(services: Services) -> list[str]:
    directory = services.workflow.directory
    async with AsyncSession(services.reader_db) as session:
        missing = await operations.unstaffed_departments(session, directory)
    for dept in directory.departments:
        services.metrics.department_unstaffed.labels(dept.code).set(1 if dept.code in missing else 0)
    return missing


async def check_staffing(services: Services) -> list[str]:
    """Warn about departments without staff; the codes, also set in the ``unstaffed`` gauge."""
    missing = await _set_unstaffed(services)
    if missing:
        log.warning(
            "departments with topics but no active staff (their tickets reach only the admins): %s",
            ", ".join(missing),
            extra={"departments": missing},
        )
    return missing


async def refresh_department_gauges(services: Services) -> None:
    async with AsyncSession(services.reader_db) as session:
        loads = await operations.department_load(session, services.workflow.directory, now=services.clock())
    for load in loads:
        services.metrics.department_open.labels(load.department_code).set(load.open)
        services.metrics.department_overdue.labels(load.department_code).set(load.overdue)


async def refresh_scorecards(services: Services) -> int:
    """Count again the snapshots that are due (reading on the reader pool, storing on the writer)."""
    snapshots = Snapshots(tz=services.workflow.tz)
    return await snapshots.refresh_due(session_factory(services.reader_db), services.sessions, services.clock())


async def department_gauges_loop(services: Services, stop: asyncio.Event, every_seconds: float = EVERY_SECONDS) -> None:
    while not stop.is_set():
        try:
            await refresh_department_gauges(services)
            await _set_unstaffed(services)  # follows `wenzheng staff add|remove`, without the warning
            await refresh_scorecards(services)
        except (SQLAlchemyError, OSError):
            log.exception("department gauges: cannot read the database; retrying")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
