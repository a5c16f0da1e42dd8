"""``GET /healthz``: can this worker store a message and reach its session store, answered in time.

A paused PostgreSQL or a SQLite write lock held elsewhere does not fail a query, it makes it wait;
a health check that waits with it tells the load balancer nothing (it hung past 3 s). So each probe
gets a deadline, and a probe still waiting is not cancelled (cancelling a driver call mid-way can
leave a pooled connection in an unknown state) but left to finish, and the next check waits on
that same probe instead of stacking another one on the stuck database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.sessions import SessionStore

HEALTH_TIMEOUT_SECONDS = 2.0


class HealthCheck:
    def __init__(
        self, *, db: AsyncEngine, store: SessionStore, timeout_seconds: float = HEALTH_TIMEOUT_SECONDS
    ) -> None:
        self._db = db
        self._store = store
        self._timeout = timeout_seconds
        self._inflight: dict[str, asyncio.Task[None]] = {}

    async def report(self) -> dict[str, str]:
        """``{"database": "ok" | "error: …", "sessions": …}`` within the timeout, whatever hangs."""
        database, sessions = await asyncio.gather(
            self._probe("database", self._database), self._probe("sessions", self._sessions)
        )
        return {"database": database, "sessions": sessions}

    async def _database(self) -> None:
        # The writer engine and the message log itself: what the first transaction of every
        # message needs (on SQLite, BEGIN IMMEDIATE: the write lock), not merely a connection.
        async with self._db.begin() as conn:
            await conn.execute(text("SELECT 1 FROM inbound_messages LIMIT 1"))

    async def _sessions(self) -> None:
        await self._store.get("healthz")

    async def _probe(self, name: str, run: Callable[[], Awaitable[None]]) -> str:
        task = self._inflight.get(name)
        if task is None or task.done():
            task = asyncio.create_task(self._run(run))
            task.add_done_callback(_retrieve)
            self._inflight[name] = task
        done, _ = await asyncio.wait({task}, timeout=self._timeout)
        if not done:
            return f"error: no answer within {self._timeout:g} s"
        failure = task.exception()
        return "ok" if failure is None else f"error: {type(failure).__name__}"

    @staticmethod
    async def _run(run: Callable[[], Awaitable[None]]) -> None:
        await run()

    async def close(self) -> None:
        """Cancel probes still waiting (at shutdown, before the pools are disposed)."""
        for task in self._inflight.values():
            task.cancel()
        for task in self._inflight.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):  # cancelled or failed: over
                await task
        self._inflight.clear()


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a probe's failure as seen even when no check is waiting for it any more."""
    if not task.cancelled():
        task.exception()
