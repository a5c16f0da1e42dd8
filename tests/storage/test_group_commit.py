"""Group commit: many jobs, one transaction, each answered only once its batch is durable; a bad
job costs its neighbours a re-run, never their data."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.database import create_engine, session_factory
from storage.group_commit import GroupCommitter


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (x INTEGER UNIQUE)"))
    yield engine
    await engine.dispose()


def _outside_count(engine: AsyncEngine) -> int:
    """Rows visible to another connection: only what is committed."""
    path = engine.url.database
    assert path is not None
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])


def insert(value: int, seen: list[int] | None = None) -> Callable[[AsyncSession], Awaitable[int]]:
    async def job(session: AsyncSession) -> int:
        if seen is not None:
            seen.append(value)
        await session.execute(text("INSERT INTO t VALUES (:x)"), {"x": value})
        return value * 10

    return job


async def test_a_lone_job_is_a_batch_of_one_and_committed_when_answered(engine: AsyncEngine) -> None:
    committer = GroupCommitter(sessions=session_factory(engine))
    assert await committer.run(insert(1)) == 10
    assert _outside_count(engine) == 1  # durable before the answer came back
    assert committer.stats.batches == 1 and committer.stats.largest == 1


async def test_concurrent_jobs_share_a_transaction_in_arrival_order(engine: AsyncEngine) -> None:
    committer = GroupCommitter(sessions=session_factory(engine), max_batch=16)
    seen: list[int] = []
    results = await asyncio.gather(*(committer.run(insert(i, seen)) for i in range(40)))
    assert results == [i * 10 for i in range(40)]
    assert seen == list(range(40))
    assert _outside_count(engine) == 40
    stats = committer.stats
    assert stats.jobs == 40 and stats.batches < 40 and stats.largest == 16  # batched, and bounded


async def test_a_failing_job_costs_its_neighbours_a_rerun_not_their_data(engine: AsyncEngine) -> None:
    committer = GroupCommitter(sessions=session_factory(engine))
    await committer.run(insert(5))
    jobs = [insert(i) for i in (1, 2, 5, 3)]  # 5 again: a unique violation in the middle of a batch
    outcomes = await asyncio.gather(*(committer.run(j) for j in jobs), return_exceptions=True)
    assert outcomes[0] == 10 and outcomes[1] == 20 and outcomes[3] == 30
    assert isinstance(outcomes[2], Exception) and "UNIQUE" in str(outcomes[2])
    assert _outside_count(engine) == 4  # 5 once, and 1, 2, 3: nothing lost, nothing doubled
    assert committer.stats.reruns >= 2


async def test_a_caller_that_stops_waiting_leaves_its_job_to_be_committed(engine: AsyncEngine) -> None:
    """The dispatcher gives up on a budget but the message must still be stored: the platform's
    retry then finds it. Cancelling one waiter neither drops its job nor stalls the queue."""
    committer = GroupCommitter(sessions=session_factory(engine))
    release = asyncio.Event()

    async def slow(session: AsyncSession) -> int:
        await release.wait()
        await session.execute(text("INSERT INTO t VALUES (100)"))
        return 1

    first = asyncio.create_task(committer.run(slow))
    await asyncio.sleep(0.01)
    waiting = asyncio.create_task(committer.run(insert(7)))
    behind = asyncio.create_task(committer.run(insert(8)))
    await asyncio.sleep(0.01)
    waiting.cancel()
    release.set()
    assert await first == 1
    assert await behind == 80
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await committer.close()
    assert _outside_count(engine) == 3  # 100, 7 (its caller left) and 8


async def test_jobs_left_with_nobody_waiting_are_committed_by_themselves(engine: AsyncEngine) -> None:
    committer = GroupCommitter(sessions=session_factory(engine))
    release = asyncio.Event()

    async def slow(session: AsyncSession) -> int:
        await release.wait()
        return 0

    first = asyncio.create_task(committer.run(slow))
    await asyncio.sleep(0.01)
    gone = [asyncio.create_task(committer.run(insert(i))) for i in (1, 2)]
    await asyncio.sleep(0.01)
    for task in gone:
        task.cancel()
    release.set()
    await first
    await committer.close()
    assert _outside_count(engine) == 2
    assert committer.waiting == 0
