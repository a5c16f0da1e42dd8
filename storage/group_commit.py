"""Group commit: one writer per process batches the transactions of many messages, commits once.

Why: a message used to cost two transactions of its own, and the fixed price of a transaction
(session, connection checkout, BEGIN IMMEDIATE, COMMIT, pool reset) was most of the cost of storing
it. Here every piece of work that must be durable is a *job* (a coroutine function over a session).
Jobs that arrive while a batch is committing wait for the next batch; the writer runs a batch's
jobs one after another in one transaction and commits once; each caller is answered only when its
batch is durable, so "acknowledged only after stored" holds per job exactly as before.

Isolation between jobs: a batch is optimistic. If any job raises, or the commit fails, the whole
batch is rolled back and every job in it is run again alone, in its own transaction, so one bad
message (a value the database refuses, a bug in a dialog) costs its neighbours a retry, never their
data or a wrong answer. Jobs must therefore be re-runnable: no effect outside the session before
the job returns (results are handed back, not acted on). A job that wants to refuse without
failing its neighbours returns a value that says so instead of raising.

No batching window: nobody waits for company. Under light load a batch is one job (the
latency of a plain transaction); under load batches grow by themselves, bounded by ``max_batch``.
SQLite has one writer anyway; on PostgreSQL each worker process has one such writer, and the
processes run side by side.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[AsyncSession], Awaitable[T]]

DEFAULT_MAX_BATCH = 64


_LEAD: Any = object()  # resolves a waiter's future to say "commit the next batch yourself"


@dataclass(slots=True)
class _Pending(Generic[T]):
    job: Job[T]
    future: asyncio.Future[Any]  # its result, or _LEAD when it is this waiter's turn to lead


@dataclass(frozen=True, slots=True)
class BatchStats:
    """What the batches looked like so far (sizes, solo re-runs): for tests and benchmarks."""

    batches: int = 0
    jobs: int = 0
    reruns: int = 0
    largest: int = 0


@dataclass(slots=True)
class _Counters:
    batches: int = 0
    jobs: int = 0
    reruns: int = 0
    largest: int = 0


class GroupCommitter:
    """``await committer.run(job)``: the job's result once the transaction it ran in is committed.

    There is no writer task: the first caller to find nobody committing leads, commits one batch
    (its own job and whatever queued before it), and hands the lead to the first job still waiting.
    A lone request therefore commits in its own task with no queue hop (the latency of a plain
    transaction), and no leader ever works on past its own batch, so nobody's answer waits for a
    stranger's backlog beyond one batch."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._queue: deque[_Pending[Any]] = deque()
        self._leading = False
        self._orphans: asyncio.Task[None] | None = None
        self._counters = _Counters()
        self._per_job: deque[float] = deque(maxlen=16)

    @property
    def samples(self) -> int:
        """How many recent batches ``seconds_per_job`` rests on."""
        return len(self._per_job)

    @property
    def seconds_per_job(self) -> float:
        """Recent wall time per committed job (the median over the last batches, so one batch that
        waited out a stalled database does not make the estimate shed load long after): with
        ``waiting``, how long a job queued now should wait (``bot.overload.Admission``)."""
        return statistics.median(self._per_job) if self._per_job else 0.0

    @property
    def stats(self) -> BatchStats:
        c = self._counters
        return BatchStats(c.batches, c.jobs, c.reruns, c.largest)

    @property
    def waiting(self) -> int:
        """Jobs queued behind the batch being committed: the writer's backlog (load shedding)."""
        return len(self._queue)

    async def run(self, job: Job[T]) -> T:
        pending: _Pending[T] = _Pending(job, asyncio.get_running_loop().create_future())
        self._queue.append(pending)
        if not self._leading:
            self._leading = True
            pending.future.set_result(_LEAD)
        while True:
            try:
                outcome = await pending.future
            except asyncio.CancelledError:
                # The caller stopped waiting; its job stays queued and is committed by the next
                # leader (the platform's retry then finds it stored). If it was this waiter's turn
                # to lead, the turn passes on so the queue never stalls.
                if pending.future.done() and not pending.future.cancelled() and pending.future.result() is _LEAD:
                    self._pass_lead()
                raise
            if outcome is not _LEAD:
                return cast(T, outcome)
            pending.future = asyncio.get_running_loop().create_future()
            await self._lead_one_batch()

    async def close(self) -> None:
        """Wait for what is queued to be committed (at shutdown)."""
        while self._leading or self._queue:
            await asyncio.sleep(0.01)

    async def _lead_one_batch(self) -> None:
        batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
        try:
            await self._commit(batch)
        except BaseException:  # cancelled mid-commit: nobody may wait forever for an answer
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(ConnectionAbortedError("the database writer stopped"))
            self._pass_lead()
            raise
        self._pass_lead()

    def _pass_lead(self) -> None:
        for pending in self._queue:
            if not pending.future.done():
                pending.future.set_result(_LEAD)  # its batch takes whatever is queued before it too
                return
        if self._queue:
            # Only jobs whose callers stopped waiting are left: they are committed all the same,
            # by a task of their own, since nobody is left to lead.
            self._orphans = asyncio.get_running_loop().create_task(self._lead_one_batch())
            return
        self._leading = False

    async def _commit(self, batch: list[_Pending[Any]]) -> None:
        started = time.perf_counter()
        try:
            results = await self._run_in_one_transaction(batch)
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0].future.done():
                    batch[0].future.set_exception(exc)
                return
            # Someone in the batch failed: nobody's work was kept. Each runs again on its own.
            self._counters.reruns += len(batch)
            log.info("batch of %d rolled back (%s): each job runs again alone", len(batch), type(exc).__name__)
            for pending in batch:
                await self._commit([pending])
            return
        self._per_job.append((time.perf_counter() - started) / len(batch))
        self._counted(len(batch))
        for pending, result in zip(batch, results, strict=True):
            if not pending.future.done():
                pending.future.set_result(result)

    async def _run_in_one_transaction(self, batch: list[_Pending[Any]]) -> list[Any]:
        results: list[Any] = []
        async with self._sessions() as session, session.begin():
            for pending in batch:
                results.append(await pending.job(session))
        return results

    def _counted(self, size: int) -> None:
        c = self._counters
        c.batches += 1
        c.jobs += size
        c.largest = max(c.largest, size)
