"""The worker that fires stored deadlines (what a timer does is ``tickets.timers``).

A timer is claimed and its effects written in one transaction, so a crash either fires it fully
or leaves it pending for the next round; a restart loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox import Outbox
from storage.timers import TimerRepository
from tickets import timers
from tickets.context import Workflow
from tickets.hot_run import HotTopicService

log = logging.getLogger(__name__)


class TimerWorker:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        timers: TimerRepository,
        workflow: Workflow,
        outbox: Outbox,
        clock: Callable[[], datetime],
        batch_size: int = 50,
        hot_topics: HotTopicService | None = None,
    ) -> None:
        self._sessions = sessions
        self._timers = timers
        self._workflow = workflow
        self._outbox = outbox
        self._clock = clock
        self._batch = batch_size
        self._hot_topics = hot_topics

    async def run_once(self) -> int:
        now = self._clock()
        async with self._sessions.begin() as session:
            due = await self._timers.claim_due(session, now, self._batch)
            for timer in due:
                await timers.fire(self._workflow, session, timer.ticket_id, timers.TimerKind(timer.kind), now)
        if due:
            self._outbox.wake()
        return len(due)

    async def run_daily(self) -> bool:
        """The daily hot-topic run and digest, once its time has come (see ``tickets.hot_run``)."""
        if self._hot_topics is None:
            return False
        done = await self._hot_topics.run_due(self._sessions, self._clock())
        if done is not None:
            self._outbox.wake()
        return done is not None

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float) -> None:
        while not stop.is_set():
            try:
                while await self.run_once():
                    pass
            except (SQLAlchemyError, OSError):
                log.exception("timer worker cannot reach the database; retrying")
            try:
                await self.run_daily()
            except Exception:  # a failed run must not stop the deadlines: its claim goes stale, it runs again
                log.exception("the daily hot-topic run failed; it is retried in an hour")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_seconds)
